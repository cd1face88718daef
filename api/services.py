"""What request handlers use, built once per process by the app factory (a composition root)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from temporalio.client import Client

from adapters.agreements.catalogue import Catalogue
from adapters.db.eventstore import EventStore
from adapters.db.projector import CaseProjector
from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings
from adapters.temporal.cases import CaseGateway
from api.auth import TokenVerifier


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
