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
from adapters.temporal.cases import CaseGateway

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
