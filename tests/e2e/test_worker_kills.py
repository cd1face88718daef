"""Twenty SIGKILLs in a row: while several cases walk from opening to closing on the dev server,
the `readmit worker` process serving them is killed at random moments and replaced each time.

Every case must still close with nothing lost or duplicated: the store holds exactly what the
workflow appended (same ids, same order, chain intact, history replays), and the outbox holds
exactly one row per notice the events call for. The seed of the random moments is printed;
set `E2E_KILL_SEED` to replay a run's choices (the timing underneath stays the machine's).
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from e2e.case_walks import Walk, audit_case, new_case_id, think_times, walk_case
from e2e.stack_support import (
    WorkerProcess,
    WorkerRelay,
    signer,
    start_dev_server,
    vault,
    wait_polling,
)
from temporalio.testing import WorkflowEnvironment

from adapters.db.eventstore import EventStore
from adapters.temporal.cases import CaseGateway

pytestmark = [pytest.mark.temporal, pytest.mark.db]

KILLS = 20
CASES = 5


@pytest.fixture
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()


async def test_cases_survive_twenty_worker_kills(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, schema_dsn: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("E2E_KILL_SEED") or secrets.randbits(32))
    print(f"worker kills: seed {seed} (E2E_KILL_SEED={seed} replays the choices)")
    rng = random.Random(seed)
    client = dev_env.client
    address = client.service_client.config.target_host
    prefix = f"k{secrets.token_hex(3)}"
    relay = WorkerRelay(
        lambda n: WorkerProcess(address, schema_dsn, prefix, tmp_path / f"worker-{n}.log")
    )
    started = time.monotonic()
    walks: list[asyncio.Task[Walk]] = []
    try:
        await wait_polling(client, relay.current, within=60)
        gateway = CaseGateway(
            client, vault=vault(pool), signer=signer(), queue_prefix=prefix, wait_seconds=240
        )
        walks += [
            asyncio.create_task(
                walk_case(
                    gateway,
                    pool,
                    new_case_id(),
                    refuse=i % 3 == 2,
                    pause=think_times(random.Random(rng.random())),
                )
            )
            for i in range(CASES)
        ]
        moments = []
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.05, 0.5))
            moments.append(round(time.monotonic() - started, 2))
            # a walk that failed stops the test at once, with its own error
            for walk in walks:
                if walk.done():
                    walk.result()
            replacement = relay.replace()
            await wait_polling(client, replacement, within=60)
        killed = time.monotonic() - started
        done = await asyncio.wait_for(asyncio.gather(*walks), 180)
    finally:
        for walk in walks:
            walk.cancel()
        relay.stop()
    closed = time.monotonic() - started
    store = EventStore(pool)
    audits = [await audit_case(walk, store, client) for walk in done]
    assert len({w.case_id for w in done}) == CASES
    print(
        f"worker kills: {KILLS} kills at {moments} s; cases closed after {closed:.1f} s "
        f"(kills done at {killed:.1f} s); events {[a.events for a in audits]}, "
        f"notices {[a.notices for a in audits]}, tasks run again {[a.retries for a in audits]}"
    )
    # the kills did interrupt work in flight (else this test would prove nothing)
    assert sum(a.retries for a in audits) > 0
