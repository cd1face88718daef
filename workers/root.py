"""The worker composition root: everything one worker process runs, built in one place.

From the settings (or explicit overrides: a client, a DSN and schema or a pool, a master
keyring, a queue prefix, the states, the sandbox) it builds the PostgreSQL pool (migrations
applied first), the personal-data vault, the Temporal client, the keys command signatures are
checked with (`adapters.keys.command_verifier`), the workers with their activities
(`workers.main.build_workers`) and the background work beside them: the retention schedule, the
audit checkpoint schedule (when a checkpoint sink is configured), the outbox dispatcher and the
`cases` projector. `readmit worker` / `python -m workers`,
`readmit run`, the simulator, the benches and the tests all assemble their workers here, benches
included: a bench changes the commit activities (`case_store`) or adds a queue of its own
(`extra_workers`) through the root's arguments, never by building a worker itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.case_store import CaseStoreActivities
from activities.federation import DeliveryActivities
from adapters import metrics
from adapters.attachments.store import attachment_store
from adapters.audit.bundle import signing_key_from
from adapters.audit.checkpoint_sinks import CheckpointPublisher
from adapters.db.migrate import migrate_dsn
from adapters.db.pool import create_pool
from adapters.db.projector import CaseProjector
from adapters.federation.peers import PeerDirectory
from adapters.federation.store import ExchangeStore
from adapters.keys import (
    audit_signing_seed,
    command_verifier,
    master_keyring,
    node_identity,
    search_key,
)
from adapters.outbox import Dispatcher, DispatchSettings, EmailSender, WebhookSender
from adapters.production import require_production, worker_needs
from adapters.protection.blind_index import BlindIndex
from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings
from adapters.temporal.checkpoints import ensure_checkpoint_schedule
from adapters.temporal.checkpoints import schedule_id as checkpoint_schedule_id
from adapters.temporal.client import connect_client
from adapters.temporal.codec import Keyring
from adapters.temporal.command_signing import CommandVerifier
from adapters.temporal.retention import ensure_retention_schedule
from adapters.temporal.schedules import remove_schedule
from adapters.tracing import flush_process_tracing
from workers.main import CaseStore, ExtraWorker, build_workers
from workers.versioning import deployment_config

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
        """Run the workers and loops until `stop` is set, or until one of them ends first (a
        worker's fatal error: the server unreachable, a bad registration; a loop that raised).
        Either way the workers then shut down gracefully (in-flight tasks finish), the loops
        are told to stop and the spans still buffered are exported. A part that ended first is
        logged and its error raised again, so the process does not stay up serving nothing."""
        halt = asyncio.Event()  # the loops' stop: set by `stop`, or by a part ending first
        parts = {asyncio.create_task(w.run()): f"worker {w.task_queue}" for w in self.workers}
        for worker in self.workers:  # issue 18: the alert on a state's queue nobody polls
            metrics.record_worker_polling(worker.task_queue, True)
        parts |= {asyncio.create_task(loop(halt)): _loop_name(loop) for loop in self.loops}
        stopping = asyncio.create_task(stop.wait())
        try:
            done, _ = await asyncio.wait({stopping, *parts}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        ended = None if stopping in done else next(t for t in parts if t in done)
        error: BaseException | None = None
        if ended is not None:
            error = None if ended.cancelled() else ended.exception()
            log.error(
                "worker part stopped, shutting down",
                part=parts[ended],
                error_type=type(error).__name__ if error else None,
            )
        log.info("worker shutting down")
        halt.set()
        await asyncio.gather(*(w.shutdown() for w in self.workers))
        await asyncio.gather(*parts, return_exceptions=True)
        for worker in self.workers:
            metrics.record_worker_polling(worker.task_queue, False)
        flush_process_tracing()
        if ended is not None:
            raise error or PartStopped(f"the {parts[ended]} stopped on its own")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WorkerRoot]:
        """Run in the background while the block runs (tests, benches, the simulator); a part
        that failed meanwhile fails the block's exit with its error."""
        stop = asyncio.Event()
        runner = asyncio.create_task(self.run(stop))
        try:
            yield self
        finally:
            stop.set()
            await runner


class PartStopped(RuntimeError):
    """A worker or background loop returned without being told to stop."""


def _loop_name(loop: Loop) -> str:
    return getattr(loop, "__qualname__", repr(loop))


POOL_SIZE = (2, 20)  # a worker process's connections: commits, identity checks, loops


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
    migrate: bool = True,
    pool: asyncpg.Pool | None = None,
    pool_size: tuple[int, int] = POOL_SIZE,
    master: Keyring | None = None,
    verifier: CommandVerifier | None = None,
    queue_prefix: str | None = None,
    sandbox: bool | None = None,
    case_store: CaseStore = CaseStoreActivities,
    extra_workers: Sequence[ExtraWorker] = (),
    peer_http: httpx.AsyncClient | None = None,
) -> AsyncIterator[WorkerRoot]:
    """Build the process serving the case queue (if `serve_cases`) and each of `states`' queues.

    Each override replaces what `settings` would give: `client` (else `connect_client`), `pool`
    (kept open; else a pool of `pool_size` (min, max) connections on `dsn`/`schema` or
    `settings.dsn()`, migrated first (by an owner; checked current by the runtime role) unless
    `migrate=False` says the caller did, and closed at the end; in production a DSN with the
    owner's rights raises `OwnerRightsError`: only `readmit db migrate` migrates there),
    `master` (the keyring wrapping case data keys), `verifier` (the keys whose command
    signatures the case queue accepts), `queue_prefix` and `sandbox`.
    `case_store` builds the commit activities and `extra_workers` adds workers on queues of
    their own (benches). `background=False` leaves out the retention and checkpoint
    schedules, the outbox dispatcher and the projector: tests and the simulator drive those
    themselves. Audit checkpoints go to the sinks `settings` name (`checkpoint_publisher`).
    Production settings missing or weak raise `ProductionSettingsError` before anything is built.
    A federated node (`settings.node_state`) also delivers its messages to its peers, over
    `peer_http` (else a client of its own). With READMIT_WORKER_DEPLOYMENT set, the case
    queue's worker is a version of that Temporal worker deployment (`workers/versioning.py`).
    """
    require_production(settings, worker_needs(settings, serves_cases=serve_cases))
    prefix = queue_prefix or settings.queue_prefix
    async with contextlib.AsyncExitStack() as owned:
        if pool is None:
            target = dsn or settings.dsn()
            if migrate:
                await migrate_dsn(
                    target,
                    schema=schema,
                    create_schema=schema is not None,
                    runtime=settings.runtime_role(),
                    refuse_owner=settings.production,
                )
            low, high = pool_size
            pool = await create_pool(target, schema=schema, min_size=low, max_size=high)
            owned.push_async_callback(pool.close)
        client = client or await connect_client(settings)
        vault = PersonalDataVault(
            pool, master or master_keyring(settings), attachment_store(settings, pool)
        )
        checkpoints = checkpoint_publisher(settings) if serve_cases else None
        delivery = None
        if serve_cases and settings.node_state is not None:
            if peer_http is None:
                peer_http = httpx.AsyncClient(timeout=PEER_TIMEOUT, follow_redirects=False)
                owned.push_async_callback(peer_http.aclose)
            delivery = delivery_activities(settings, pool, vault, peer_http)
        deployment = deployment_config(settings) if serve_cases else None
        if deployment is not None:  # what the operator makes current (docs/operations.md)
            log.info(
                "case workers versioned",
                deployment=deployment.version.deployment_name,
                build_id=deployment.version.build_id,
                behavior=settings.worker_versioning_behavior,
            )
        workers = build_workers(
            client,
            pool,
            states,
            vault=vault,
            verifier=verifier or (command_verifier(settings) if serve_cases else None),
            serve_cases=serve_cases,
            queue_prefix=prefix,
            channels=settings.notify_channels,
            sandbox=settings.workflow_sandbox if sandbox is None else sandbox,
            case_store=case_store,
            extra=extra_workers,
            checkpoints=checkpoints,
            delivery=delivery,
            deployment=deployment,
        )
        log.info("worker queues", task_queues=[worker.task_queue for worker in workers])
        loops: list[Loop] = []
        if background:
            if serve_cases:
                await ensure_retention_schedule(client, settings.retention_schedule, prefix)
                if checkpoints is not None:
                    await ensure_checkpoint_schedule(
                        client, settings.audit_checkpoint_schedule, prefix
                    )
                else:
                    # a sink taken out of the settings: its schedule would fail every run
                    removed = await remove_schedule(client, checkpoint_schedule_id(prefix))
                    log.info(
                        "audit checkpoints off: no checkpoint sink is configured",
                        schedule_deleted=removed,
                    )
                index = BlindIndex(search_key(settings))  # the person search's (issue 17)
                loops.append(CaseProjector(pool, vault=vault, index=index).follow)
            dispatcher = build_dispatcher(
                pool, settings.dispatch, vault.master, production=settings.production
            )
            loops.append(dispatcher.run_forever)
        yield WorkerRoot(pool, vault, workers, loops)


PEER_TIMEOUT = httpx.Timeout(30.0, connect=10.0)  # one attempt; the delivery retries for days


def delivery_activities(
    settings: Settings, pool: asyncpg.Pool, vault: PersonalDataVault, http: httpx.AsyncClient
) -> DeliveryActivities:
    """What sends a federated node's messages: its own keys (the key file), its peers, its
    record of the exchange."""
    identity = node_identity(settings)
    assert identity is not None
    return DeliveryActivities(
        identity,
        PeerDirectory(pool, own_state=settings.node_state),
        ExchangeStore(pool),
        vault,
        http,
        settings.federation_max_message_bytes,
        attachment_store(settings, pool),
    )


def checkpoint_publisher(settings: Settings) -> CheckpointPublisher | None:
    """What signs the audit checkpoints and where they go, or None without a sink."""
    directory, url = settings.audit_checkpoint_dir, settings.audit_checkpoint_webhook_url
    if directory is None and url is None:
        return None
    key = signing_key_from(audit_signing_seed(settings))
    return CheckpointPublisher(key, directory, url, production=settings.production)


def build_dispatcher(
    pool: asyncpg.Pool, settings: DispatchSettings, master: Keyring, *, production: bool
) -> Dispatcher:
    """The outbox dispatcher sending e-mail and webhook notifications; `master` unwraps the
    recipients' webhook secrets, `production` holds webhook targets to production's rules."""
    webhooks = WebhookSender(settings, master, production=production)
    return Dispatcher(pool, EmailSender(settings), webhooks, settings)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (graceful shutdown)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
