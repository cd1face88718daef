"""The API app factory: the HTTP composition root.

It checks the production settings first (`adapters.production`: a missing or weak secret stops
it), then builds, once per process, the PostgreSQL pool (migrations applied first), the Temporal
client with the one data converter, the case gateway (which signs commands with the API's key),
the agreement catalogue and the token verifier; it runs the `cases` projector beside the API so
lists follow new events within milliseconds. PostgreSQL and Temporal are connected in the
background (`api.backends`): the process answers `/health` at once and `/ready` names what it
still waits for. The middleware in front of the routes is `api.hardening`'s.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib import metadata

import asyncpg
import structlog
from fastapi import FastAPI
from temporalio.client import Client

from adapters.agreements.catalogue import load_catalogue
from adapters.attachments.store import attachment_store
from adapters.cert_expiry import record_certificate_expiry
from adapters.db.eventstore import EventStore
from adapters.db.projector import CaseProjector
from adapters.federation.heads import HeadsService
from adapters.federation.inbound import Inbound
from adapters.federation.peers import PeerDirectory
from adapters.federation.store import ExchangeStore
from adapters.keys import (
    command_signer,
    command_signing_seed,
    jwt_secret,
    master_keyring,
    node_identity,
    search_key,
)
from adapters.production import API, require_production
from adapters.protection.blind_index import BlindIndex
from adapters.protection.vault import PersonalDataVault
from adapters.settings import ConfigurationError, Settings, get_settings
from adapters.temporal.cases import CaseGateway
from adapters.tracing import Tracing, process_tracing
from api import docs, hardening, problems, web
from api.auth import TokenVerifier
from api.backends import Backends
from api.claims_mapping import ClaimsMapping
from api.idempotency import derive_hash_key
from api.jwks import KeySet
from api.oidc import OidcSignIn, oidc_from
from api.routes import (
    agreements,
    attachments,
    audit,
    cases,
    codec,
    documents,
    federation,
    health,
    identity,
    inbox,
    messages,
    mrz,
    search,
    stats,
)
from api.routes import workload as workload_routes
from api.services import Services

DESCRIPTION = """Readmission cases between states: open, submit, reply, transfer; exact
deadlines; a hash-chained history auditors can replay and verify. Every endpoint except
`/health`, `/ready` and the docs needs a bearer token (`readmit token` in development)."""

log = structlog.get_logger(__name__)


def verifier_from(settings: Settings, provider_keys: KeySet | None = None) -> TokenVerifier:
    """The bearer-token verifier; RS256/ES256 tokens are checked with the JWKS named by the
    settings, else with the OpenID provider's (`provider_keys`), and must name the issuer and
    audience (a `ConfigurationError` otherwise)."""
    keys = provider_keys
    if settings.jwks_file is not None:
        keys = KeySet(file=settings.jwks_file)
    elif settings.jwks_url:
        keys = KeySet(url=settings.jwks_url, min_refresh_seconds=settings.jwks_min_refresh_seconds)
    mapping = ClaimsMapping.from_settings(settings) if settings.oidc_role_map else None
    return TokenVerifier(
        algorithms=settings.jwt_algorithms,
        secret=jwt_secret(settings),
        keys=keys if any(a != "HS256" for a in settings.jwt_algorithms) else None,
        issuer=settings.jwt_issuer or settings.oidc_issuer,
        audience=settings.jwt_audience,
        map_claims=(lambda claims: mapping.principal(claims, expires=int(claims["exp"])))
        if mapping
        else None,
    )


def sign_in_from(settings: Settings) -> tuple[TokenVerifier, OidcSignIn | None]:
    """How callers are recognised: bearer tokens and the provider's sign-in (if configured).
    Raises `ConfigurationError` naming what is missing, before anything is served."""
    oidc, provider_keys = oidc_from(settings)
    return verifier_from(settings, provider_keys), oidc


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    client: Client | None = None,
    tracing: Tracing | None = None,
) -> FastAPI:
    """The app; `database_url`, `client` and `tracing` override the settings (tests,
    `readmit run`). Raises `ConfigurationError` (one line) for production settings that are
    missing or weak; the agreement catalogue's `CatalogueError` for a broken one."""
    config = settings or get_settings()
    require_production(config, API)
    record_certificate_expiry(config)  # issue 18: the alert on a certificate about to expire
    traces = tracing or process_tracing(config)
    master = master_keyring(config)
    signer = command_signer(config)  # a bad key stops the app here, not its services later
    request_hash_key = derive_hash_key(command_signing_seed(config))
    verifier, oidc = sign_in_from(config)  # a configuration error stops the app before it serves
    catalogue = load_catalogue(config.agreements_dir)
    known = {a.id for a in catalogue.list_agreements()}
    if unknown := config.approval_policy().unknown_agreements(known):
        raise ConfigurationError(
            f"READMIT_REPLY_APPROVAL names agreements the catalogue does not hold: "
            f"{', '.join(unknown)}"
        )
    node = node_identity(config)  # a federated node's own keys: a bad key file stops it here
    person_index = BlindIndex(search_key(config))  # the person search's key (issue 17)

    def services(pool: asyncpg.Pool, temporal: Client) -> Services:
        vault = PersonalDataVault(pool, master)
        gateway = CaseGateway(
            temporal,
            vault=vault,
            signer=signer,
            queue_prefix=config.queue_prefix,
            policy=config.reminder_policy(),
            node_state=config.node_state,
            clock_skew_seconds=config.federation_clock_skew_seconds,
        )
        inbound = heads = None
        if node is not None:
            peers = PeerDirectory(pool, own_state=node.state)
            limit = config.federation_max_message_bytes
            inbound = Inbound(
                node,
                peers,
                ExchangeStore(pool),
                gateway,
                catalogue,
                limit,
                attachment_store(config, pool),
            )
            heads = HeadsService(node, peers, EventStore(pool), ExchangeStore(pool), limit)
        return Services(
            settings=config,
            pool=pool,
            client=temporal,
            gateway=gateway,
            store=EventStore(pool),
            projector=CaseProjector(pool, vault=vault, index=person_index),
            catalogue=catalogue,
            verifier=verifier,
            vault=vault,
            idempotency_key=request_hash_key,
            oidc=oidc,
            inbound=inbound,
            heads=heads,
            attachments=attachment_store(config, pool),
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for name, keys in catalogue.unverified_in_force().items():
            log.warning("agreement.unverified_values", agreement=name, keys=list(keys))
        await backends.start()
        try:
            yield
        finally:
            await backends.stop()
            traces.flush()

    show_docs = docs.docs_enabled(config)
    app = FastAPI(
        title="Readmit",
        version=metadata.version("readmit"),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if show_docs else None,
        responses={
            400: {"description": "a body that is not JSON or not UTF-8 (problem+json)"},
            401: {"description": "no or invalid bearer token (problem+json)"},
            413: {"description": "a body over 1 MiB (problem+json)"},
            422: {"description": "invalid input (problem+json)"},
            429: {"description": "over a rate limit (problem+json, Retry-After)"},
        },
    )
    backends = Backends(
        app, config, services, database_url=database_url, client=client, tracing=traces
    )
    app.state.settings = config
    app.state.backends = backends
    problems.install(app)
    app.include_router(health.router)
    if show_docs:
        app.include_router(docs.router)
    app.include_router(cases.router)
    app.include_router(attachments.router)
    app.include_router(messages.router)
    app.include_router(agreements.router)
    app.include_router(identity.router)
    app.include_router(mrz.router)
    app.include_router(inbox.router)
    app.include_router(stats.router)
    app.include_router(audit.router)
    app.include_router(web.router)
    app.include_router(codec.router)
    app.include_router(federation.router)
    app.include_router(documents.router)
    app.include_router(search.router)
    app.include_router(workload_routes.router)
    hardening.install(app, config, backends)
    traces.instrument(app)
    return app
