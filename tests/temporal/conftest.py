"""Temporal fixtures: per test a fresh schema, a random task-queue prefix and real workers (case
queue plus the queues of the states used) on the session's time-skipping server."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from readmit.db.eventstore import EventStore
from readmit.temporal.cases import CaseGateway
from readmit.temporal.clock import advance_to
from workers.main import build_workers, run_workers

STATES = ("PL", "UA", "MD", "RO", "DE")


@dataclass
class CaseSystem:
    """A running system for one test: gateway, store, pool, and the clock to move."""

    env: WorkflowEnvironment
    client: Client
    gateway: CaseGateway
    store: EventStore
    pool: asyncpg.Pool
    prefix: str
    started: list[str] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        """Move the server's clock `seconds` ahead."""
        await advance_to(self.env, await self.env.get_current_time() + timedelta(seconds=seconds))


@pytest.fixture
async def case_system(
    time_env: WorkflowEnvironment, pool: asyncpg.Pool
) -> AsyncIterator[CaseSystem]:
    prefix = f"t{secrets.token_hex(4)}"
    client = time_env.client
    workers = build_workers(client, pool, STATES, queue_prefix=prefix)
    stop = asyncio.Event()
    runner = asyncio.create_task(run_workers(workers, stop))
    system = CaseSystem(
        env=time_env,
        client=client,
        gateway=CaseGateway(client, queue_prefix=prefix),
        store=EventStore(pool),
        pool=pool,
        prefix=prefix,
    )
    with time_env.auto_time_skipping_disabled():
        yield system
    for case_id in system.started:
        with contextlib.suppress(Exception):
            await client.get_workflow_handle(case_id).terminate("test finished")
    stop.set()
    await runner
