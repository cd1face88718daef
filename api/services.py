"""What request handlers use, built once per process by the app factory (a composition root),
and the one question about a case they all ask first: who its parties are."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from temporalio.client import Client

from adapters.agreements.catalogue import Catalogue
from adapters.attachments.store import AttachmentStore
from adapters.db.case_queries import Parties, case_parties
from adapters.db.eventstore import EventStore
from adapters.db.projector import CaseProjector
from adapters.federation.heads import HeadsService
from adapters.federation.inbound import Inbound
from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings
from adapters.temporal.cases import CaseGateway, CaseNotFound
from api.auth import TokenVerifier
from api.oidc import OidcSignIn


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
    idempotency_key: bytes  # HMAC key of the request hashes that Idempotency-Keys remember
    oidc: OidcSignIn | None = None  # sign-in through the identity provider, when configured
    inbound: Inbound | None = None  # a federated node's receiving end (docs/federation.md)
    heads: HeadsService | None = None  # a federated node's answer to its peer's audits
    attachments: AttachmentStore | None = None  # the sealed bytes of case attachments

    async def parties(self, case_id: str) -> Parties:
        """The case's parties, without folding its stream: the read model's row, else (a case
        opened a moment ago and not yet projected) the case workflow's own, always current view.
        `CaseNotFound` when neither knows the case."""
        found = await case_parties(self.pool, case_id)
        if found is not None:
            return found
        state = (await self.gateway.view(case_id)).state
        if state.terms is None:
            raise CaseNotFound(case_id)
        # disclosed as the read model's row says (case_queries.disclosed_sql): once submitted
        submitted = state.submitted_at is not None
        return Parties(state.terms.requesting, state.terms.requested, disclosed=submitted)
