"""The worker composition root: pools, clients and activities built once, then workers.

A process serves the shared case queue (the `ReadmissionCase` workflow, deadline computation and
event-store appends) and, for each `--state`, that state's own queue (its registry lookups and
its officers' notifications), so every state can run workers on its own infrastructure.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.case_store import CaseStoreActivities
from activities.identity import IdentityActivities
from activities.retention import RetentionActivities
from adapters.db.eventstore import EventStore
from adapters.outbox import Dispatcher, DispatchSettings, EmailSender, WebhookSender
from adapters.protection.vault import PersonalDataVault
from adapters.registry import PostgresRegistry
from adapters.tracing import flush_process_tracing
from workflows.contracts import QUEUE_PREFIX, cases_queue, state_queue
from workflows.readmission_case import ReadmissionCase
from workflows.retention_sweep import RetentionSweep

log = structlog.get_logger(__name__)


def build_workers(
    client: Client,
    pool: asyncpg.Pool,
    states: Sequence[str],
    *,
    vault: PersonalDataVault,
    serve_cases: bool = True,
    queue_prefix: str = QUEUE_PREFIX,
    channels: Sequence[str] = ("inbox", "email", "webhook"),
    sandbox: bool = True,
) -> list[Worker]:
    """Workers for the case queue (if `serve_cases`) and for each state's queue; `sandbox`:
    workflow code in the Temporal sandbox (tests) or not (`READMIT_WORKFLOW_SANDBOX`)."""
    workers: list[Worker] = []
    store = CaseStoreActivities(EventStore(pool), channels)
    if serve_cases:
        retention = RetentionActivities(vault)
        workers.append(
            Worker(
                client,
                task_queue=cases_queue(queue_prefix),
                workflows=[ReadmissionCase, RetentionSweep],
                activities=[
                    store.commit_case_events,
                    retention.erase_expired,
                ],
                max_concurrent_activities=50,
                workflow_runner=workflow_runner(sandbox),
            )
        )
    identity = IdentityActivities(PostgresRegistry(pool), vault)
    for state in states:
        queue = state_queue(state, queue_prefix)
        workers.append(
            Worker(
                client,
                task_queue=queue,
                activities=[identity.verify_identity],
                activity_executor=ThreadPoolExecutor(max_workers=4),
            )
        )
    return workers


def workflow_runner(sandbox: bool) -> WorkflowRunner:
    """The Temporal sandbox (the SDK's default) or plain execution of workflow code."""
    return SandboxedWorkflowRunner() if sandbox else UnsandboxedWorkflowRunner()


Loop = Callable[[asyncio.Event], Awaitable[None]]


async def run_workers(
    workers: Sequence[Worker], stop: asyncio.Event, loops: Sequence[Loop] = ()
) -> None:
    """Run `workers` and background `loops` (the outbox dispatcher, the projector) until `stop`
    is set, then shut the workers down gracefully (in-flight tasks finish) and export the
    spans still buffered (tracing rides on the client the workers were built with)."""
    tasks = [asyncio.create_task(w.run()) for w in workers]
    tasks += [asyncio.create_task(loop(stop)) for loop in loops]
    await stop.wait()
    log.info("worker shutting down")
    await asyncio.gather(*(w.shutdown() for w in workers))
    await asyncio.gather(*tasks, return_exceptions=True)
    flush_process_tracing()


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (graceful shutdown)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def build_dispatcher(pool: asyncpg.Pool, settings: DispatchSettings) -> Dispatcher:
    """The outbox dispatcher sending e-mail and webhook notifications."""
    return Dispatcher(pool, EmailSender(settings), WebhookSender(settings), settings)
