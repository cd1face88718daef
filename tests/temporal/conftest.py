"""Temporal fixtures: per test a fresh schema, a random task-queue prefix and real workers (case
queue plus the queues of the states used) on the session's time-skipping server."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from case_system import CaseSystem
from temporalio.testing import WorkflowEnvironment
from workers_support import running_workers, signer

from adapters.db.eventstore import EventStore
from adapters.protection.vault import PersonalDataVault
from adapters.temporal.binaries import dev_server_path
from adapters.temporal.cases import CaseGateway
from adapters.temporal.codec import Keyring, data_converter
from adapters.temporal.search_attributes import register

STATES = ("PL", "UA", "MD", "RO", "DE")


@pytest.fixture
async def case_system(
    time_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault
) -> AsyncIterator[CaseSystem]:
    prefix = f"t{secrets.token_hex(4)}"
    client = time_env.client
    system = CaseSystem(
        env=time_env,
        client=client,
        gateway=CaseGateway(client, vault=vault, signer=signer(), queue_prefix=prefix),
        store=EventStore(pool),
        pool=pool,
        prefix=prefix,
    )
    async with running_workers(client, pool, STATES, master=vault.master, queue_prefix=prefix):
        with time_env.auto_time_skipping_disabled():
            yield system


@pytest.fixture
async def dev_env(keyring: Keyring) -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of the test's own (schedules need it: the time-skipping server has none)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_path()),
        data_converter=data_converter(keyring),
        dev_server_log_level="error",
    )
    await register(env.client)  # the case workflows' search attributes
    yield env
    await env.shutdown()
