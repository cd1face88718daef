"""The worker composition root: everything one worker process runs, built in one place.

From the settings (or explicit overrides: a client, a DSN and schema or a pool, a master
keyring, a queue prefix, the states, the sandbox) it builds the PostgreSQL pool (migrations
applied first), the personal-data vault, the Temporal client, the workers with their activities
(`workers.main.build_workers`) and the background work beside them: the retention schedule, the
outbox dispatcher and the `cases` projector. `readmit worker` / `python -m workers`,
`readmit run`, the simulator, the benches and the tests all assemble their workers here.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from adapters.db.migrate import migrate_dsn
from adapters.db.pool import create_pool
from adapters.db.projector import CaseProjector
from adapters.keys import master_keyring
from adapters.outbox import Dispatcher, DispatchSettings, EmailSender, WebhookSender
from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings
from adapters.temporal.client import connect_client
from adapters.temporal.codec import Keyring
from adapters.temporal.retention import ensure_retention_schedule
from adapters.tracing import flush_process_tracing
from workers.main import build_workers

log = structlog.get_logger(__name__)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class WorkerRoot:
    """A built worker process: its pool and vault (for callers that drive cases too, like the
    simulator and the benches), its workers and its background loops."""

    pool: asyncpg.Pool
    vault: PersonalDataVault
    workers: list[Worker]
    loops: list[Loop]

    async def run(self, stop: asyncio.Event) -> None:
        """Run the workers and loops until `stop` is set, then shut the workers down gracefully
        (in-flight tasks finish) and export the spans still buffered."""
        tasks = [asyncio.create_task(w.run()) for w in self.workers]
        tasks += [asyncio.create_task(loop(stop)) for loop in self.loops]
        await stop.wait()
        log.info("worker shutting down")
        await asyncio.gather(*(w.shutdown() for w in self.workers))
        await asyncio.gather(*tasks, return_exceptions=True)
        flush_process_tracing()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WorkerRoot]:
        """Run in the background while the block runs (tests, benches, the simulator)."""
        stop = asyncio.Event()
        runner = asyncio.create_task(self.run(stop))
        try:
            yield self
        finally:
            stop.set()
            await runner


@contextlib.asynccontextmanager
async def worker_root(
    settings: Settings,
    states: Sequence[str],
    *,
    serve_cases: bool = True,
    background: bool = True,
    client: Client | None = None,
    dsn: str | None = None,
    schema: str | None = None,
    pool: asyncpg.Pool | None = None,
    master: Keyring | None = None,
    queue_prefix: str | None = None,
    sandbox: bool | None = None,
) -> AsyncIterator[WorkerRoot]:
    """Build the process serving the case queue (if `serve_cases`) and each of `states`' queues.

    Each override replaces what `settings` would give: `client` (else `connect_client`),
    `pool` (kept open; else a pool on `dsn`/`schema` or `settings.dsn()`, migrated first and
    closed at the end), `master` (the keyring wrapping case data keys), `queue_prefix` and
    `sandbox`. `background=False` leaves out the retention schedule, the outbox dispatcher and
    the projector: tests and the simulator drive those themselves.
    """
    prefix = queue_prefix or settings.queue_prefix
    async with contextlib.AsyncExitStack() as owned:
        if pool is None:
            target = dsn or settings.dsn()
            await migrate_dsn(target, schema=schema, create_schema=schema is not None)
            pool = await create_pool(target, schema=schema, min_size=2, max_size=20)
            owned.push_async_callback(pool.close)
        client = client or await connect_client(settings)
        vault = PersonalDataVault(pool, master or master_keyring(settings))
        workers = build_workers(
            client,
            pool,
            states,
            vault=vault,
            serve_cases=serve_cases,
            queue_prefix=prefix,
            channels=settings.notify_channels,
            sandbox=settings.workflow_sandbox if sandbox is None else sandbox,
        )
        loops: list[Loop] = []
        if background:
            if serve_cases:
                await ensure_retention_schedule(client, settings.retention_schedule, prefix)
                loops.append(CaseProjector(pool, vault=vault).follow)
            loops.append(build_dispatcher(pool, settings.dispatch).run_forever)
        yield WorkerRoot(pool, vault, workers, loops)


def build_dispatcher(pool: asyncpg.Pool, settings: DispatchSettings) -> Dispatcher:
    """The outbox dispatcher sending e-mail and webhook notifications."""
    return Dispatcher(pool, EmailSender(settings), WebhookSender(settings), settings)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (graceful shutdown)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
