"""What request handlers use, built once per process by the app factory (a composition root)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from temporalio.client import Client

from api.auth import TokenVerifier
from readmit.catalogue import Catalogue
from readmit.db.eventstore import EventStore
from readmit.db.projector import CaseProjector
from readmit.protection.vault import PersonalDataVault
from readmit.settings import Settings
from readmit.temporal.cases import CaseGateway


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    client: Client
    gateway: CaseGateway
    store: EventStore
    projector: CaseProjector
    catalogue: Catalogue
    verifier: TokenVerifier
    vault: PersonalDataVault
