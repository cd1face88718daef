"""The API app factory: the HTTP composition root.

It builds, once per process, the PostgreSQL pool (migrations applied first), the Temporal client
with the one data converter, the case gateway (which signs commands with the API's key), the
agreement catalogue and the token verifier; it runs the `cases` projector beside the API so
lists follow new events within milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from importlib import metadata

import structlog
from fastapi import FastAPI
from temporalio.client import Client

from adapters import metrics
from adapters.agreements.catalogue import load_catalogue
from adapters.db.eventstore import EventStore
from adapters.db.migrate import migrate_dsn
from adapters.db.pool import create_pool
from adapters.db.projector import CaseProjector
from adapters.keys import command_signer, jwt_secret, master_keyring
from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings, get_settings
from adapters.temporal.cases import CaseGateway
from adapters.temporal.client import connect_client
from adapters.tracing import Tracing, process_tracing
from api import problems, web
from api.auth import TokenVerifier
from api.limits import BodySizeLimit
from api.routes import agreements, audit, cases, codec, health, identity, inbox
from api.services import Services

DESCRIPTION = """Readmission cases between states: open, submit, reply, transfer; exact
deadlines; a hash-chained history auditors can replay and verify. Every endpoint except
`/health`, `/ready` and the docs needs a bearer token (`readmit token` in development)."""

log = structlog.get_logger(__name__)


def verifier_from(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        algorithms=settings.jwt_algorithms,
        secret=jwt_secret(settings),
        jwks_url=settings.jwks_url,
        jwks_file=settings.jwks_file,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    client: Client | None = None,
    tracing: Tracing | None = None,
) -> FastAPI:
    """The app; `database_url`, `client` and `tracing` override the settings (tests,
    `readmit run`)."""
    config = settings or get_settings()
    traces = tracing or process_tracing(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dsn = config.dsn(database_url)
        await migrate_dsn(dsn)
        pool = await create_pool(dsn, min_size=2, max_size=20)
        temporal = client or await connect_client(config, tracing=traces)
        vault = PersonalDataVault(pool, master_keyring(config))
        projector = CaseProjector(pool, vault=vault)
        catalogue = load_catalogue(config.agreements_dir)
        for name, keys in catalogue.unverified_in_force().items():
            log.warning("agreement.unverified_values", agreement=name, keys=list(keys))
        app.state.services = Services(
            settings=config,
            pool=pool,
            client=temporal,
            gateway=CaseGateway(
                temporal,
                vault=vault,
                signer=command_signer(config),
                queue_prefix=config.queue_prefix,
                policy=config.reminder_policy(),
            ),
            store=EventStore(pool),
            projector=projector,
            catalogue=catalogue,
            verifier=verifier_from(config),
            vault=vault,
        )
        stop = asyncio.Event()
        follower = asyncio.create_task(projector.follow(stop))
        gauges = asyncio.create_task(metrics.follow_read_model(pool, stop))
        try:
            yield
        finally:
            stop.set()
            await follower
            await gauges
            await pool.close()
            traces.flush()

    app = FastAPI(
        title="Readmit",
        version=metadata.version("readmit"),
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={
            400: {"description": "a body that is not JSON or not UTF-8 (problem+json)"},
            401: {"description": "no or invalid bearer token (problem+json)"},
            413: {"description": "a body over 1 MiB (problem+json)"},
            422: {"description": "invalid input (problem+json)"},
        },
    )
    problems.install(app)
    app.include_router(health.router)
    app.include_router(cases.router)
    app.include_router(agreements.router)
    app.include_router(identity.router)
    app.include_router(inbox.router)
    app.include_router(audit.router)
    app.include_router(web.router)
    app.include_router(codec.router)
    app.add_middleware(BodySizeLimit)
    traces.instrument(app)
    return app
