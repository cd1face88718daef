"""The API's backing services, connected in the background: the process answers `/health` from
its first moment, whether or not PostgreSQL and Temporal are there yet.

`Backends` connects PostgreSQL (the migrations applied, then the pool) and Temporal side by
side, each retried with a growing pause until it answers, and builds the app's `Services` once
both are there; then it runs the `cases` projector and the read-model gauges. Until then
`ReadinessGate` answers every request but the operational ones with 503 problem+json, and
`/ready` names what is missing. Two things end the waiting for good, the process staying up to
say so on `/ready` and in the log: services that fail to build (a bug), and, in production, a
DATABASE_URL with the owner's rights (the API runs as the runtime role; `readmit db migrate`
migrates). Startup waits for the first attempt of each (bounded), so a
process whose services are up serves from its first request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import structlog
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.client import Client

from adapters import metrics
from adapters.db.migrate import OwnerRightsError, migrate_dsn
from adapters.db.pool import create_pool
from adapters.settings import Settings
from adapters.temporal.client import connect_client
from adapters.tracing import Tracing
from api import idempotency
from api.problems import RETRY_AFTER_SECONDS, problem_response
from api.services import Services

log = structlog.get_logger(__name__)

FIRST_ATTEMPT_SECONDS = 15.0  # how long startup waits for the first try of each service
RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)  # pauses between tries; the last repeats
POOL_SIZE = (2, 20)
# Served while the services are missing: liveness, readiness, the docs and static files.
# `/metrics` too (issue 18): with the scrape secret it needs no services, and Prometheus should
# see the API's own counters while PostgreSQL or Temporal are away (api.metrics_scrape).
OPEN_PATHS = ("/health", "/ready", "/docs", "/openapi.json", "/ui/static/", "/metrics")

BuildServices = Callable[[asyncpg.Pool, Client], Services]
T = TypeVar("T")


@dataclass
class Readiness:
    """What the API has so far; `/ready` reports it."""

    postgres: bool = False
    migrations: bool = False
    temporal: bool = False
    refused: str | None = None  # why the API will never be ready without a restart (one line)


class Backends:
    """Connects, retries, builds the services, runs the background loops, and closes it all."""

    def __init__(
        self,
        app: FastAPI,
        settings: Settings,
        build: BuildServices,
        *,
        database_url: str | None = None,
        client: Client | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.build = build
        self.database_url = database_url
        self.client = client
        self.tracing = tracing
        self.readiness = Readiness()
        self.pool: asyncpg.Pool | None = None
        self._stop = asyncio.Event()
        self._settled = asyncio.Event()  # services built, or a first attempt failed
        self._tried_once: set[str] = set()
        self._tasks: list[asyncio.Task[Any]] = []

    @property
    def services(self) -> Services | None:
        found: Services | None = getattr(self.app.state, "services", None)
        return found

    async def start(self) -> None:
        """Begin connecting; return once both are there or a first attempt failed (or, at the
        latest, after `FIRST_ATTEMPT_SECONDS`): the rest goes on in the background."""
        self.readiness = Readiness()
        self._stop, self._settled = asyncio.Event(), asyncio.Event()
        self._tried_once = set()
        self._tasks = []
        self._tasks.append(asyncio.create_task(self._connect_and_serve()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), FIRST_ATTEMPT_SECONDS)

    async def stop(self) -> None:
        self._stop.set()
        if self.services is None:
            for task in self._tasks:
                task.cancel()  # still connecting: nothing of it to finish
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    async def _connect_and_serve(self) -> None:
        try:
            pool, client = await asyncio.gather(
                self._retrying("postgres", self._postgres),
                self._retrying("temporal", self._temporal),
            )
        except OwnerRightsError as error:  # a setting, not an outage: retrying will not help
            self._refuse(str(error))
            log.error("api.refused", reason="owner_rights")
            return
        try:
            services = self.build(pool, client)
        except Exception as error:  # a bug, not an outage: say so instead of waiting for ever
            self._refuse(f"the API's services could not be built ({type(error).__name__})")
            log.error("api.services_failed", error_type=type(error).__name__)
            raise
        self.app.state.services = services
        self._settled.set()
        log.info("api.ready")
        self._tasks += [
            asyncio.create_task(services.projector.follow(self._stop)),
            asyncio.create_task(metrics.follow_read_model(pool, self._stop)),
            asyncio.create_task(idempotency.purge_forever(pool, self._stop)),
        ]

    def _refuse(self, reason: str) -> None:
        self.readiness.refused = reason
        self._settled.set()
        self._stop.set()  # the other connection's retries end too

    async def _postgres(self) -> asyncpg.Pool:
        dsn = await asyncio.to_thread(self.settings.dsn, self.database_url)
        # the owner migrates (development); the runtime role only checks that the schema is
        # current, and in production only the runtime role may serve (`readmit db migrate`)
        await migrate_dsn(
            dsn, runtime=self.settings.runtime_role(), refuse_owner=self.settings.production
        )
        self.readiness.migrations = True
        low, high = POOL_SIZE
        self.pool = await create_pool(dsn, min_size=low, max_size=high)
        self.readiness.postgres = True
        return self.pool

    async def _temporal(self) -> Client:
        if self.client is None:
            self.client = await connect_client(self.settings, tracing=self.tracing)
        self.readiness.temporal = True
        return self.client

    async def _retrying(self, part: str, connect: Callable[[], Awaitable[T]]) -> T:
        """`connect()` until it succeeds, pausing longer after each failure; the failures are
        logged by type only (a driver's message may carry a DSN or a host's name)."""
        attempt = 0
        while True:
            try:
                found = await connect()
            except (asyncio.CancelledError, OwnerRightsError):
                raise
            except Exception as error:
                log.warning("api.waiting", part=part, error_type=type(error).__name__)
                self._tried(part, failed=True)
                pause = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                attempt += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), pause)
                if self._stop.is_set():
                    raise asyncio.CancelledError from None
                continue
            self._tried(part, failed=False)
            return found

    def _tried(self, part: str, *, failed: bool) -> None:
        if part not in self._tried_once and failed:
            self._settled.set()  # serve /health now; keep trying in the background
        self._tried_once.add(part)


class ReadinessGate:
    """503 problem+json with Retry-After for every request but the operational ones while the
    services are not built yet (PostgreSQL or Temporal not reached since the start)."""

    def __init__(self, app: ASGIApp, backends: Backends) -> None:
        self.app = app
        self.backends = backends

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.backends.services is not None or _open(scope["path"]):
            await self.app(scope, receive, send)
            return
        readiness = self.backends.readiness
        missing = ", ".join(missing_parts(readiness))
        response = problem_response(
            503,
            "Service unavailable",
            f"the API cannot serve: {readiness.refused}"
            if readiness.refused
            else f"the API is not ready yet: waiting for {missing}",
            type_="not-ready",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        await response(scope, receive, send)


def missing_parts(readiness: Readiness, *, built: bool = False) -> list[str]:
    """What is missing, `services` last: until they are built nothing is ready, even with every
    connection there (their build failed, or the API refuses to serve)."""
    return [name for name, ok in checks_of(readiness, built=built).items() if not ok]


def checks_of(readiness: Readiness, *, built: bool) -> dict[str, bool]:
    return {
        "postgres": readiness.postgres,
        "migrations": readiness.migrations,
        "temporal": readiness.temporal,
        "services": built,
    }


def _open(path: str) -> bool:
    return any(path == p or path.startswith(p if p.endswith("/") else p + "/") for p in OPEN_PATHS)
