"""Temporal fixtures: one time-skipping test server per session, and per test a fresh schema,
a random task-queue prefix and real workers (cases queue plus the queues of the states used)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from readmit.db.eventstore import EventStore
from readmit.temporal.binaries import test_server_path
from readmit.temporal.cases import CaseGateway
from readmit.temporal.codec import Keyring, data_converter
from workers.main import build_workers, run_workers

STATES = ("PL", "UA", "MD", "RO", "DE")


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    return Keyring({"test-1": os.urandom(32)}, "test-1")


@pytest.fixture(scope="session")
async def time_env(keyring: Keyring) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()), data_converter=data_converter(keyring)
    )
    yield env
    await env.shutdown()


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
        await self.env.sleep(seconds)
        await asyncio.sleep(0.05)


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
