"""The Temporal dev server (SQLite file) is stopped (SIGTERM) or killed (SIGKILL) and started
again while cases are in the middle of their walk: every case continues and closes, nothing lost
or duplicated; the same `readmit worker` process serves before, through and after the outage
(the SDK retries its polls), as does the client driving the cases (its commands are sent again
with their idempotency keys)."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from e2e.case_walks import Walk, audit_case, new_case_id, think_times, wait_for_events, walk_case
from e2e.stack_support import (
    RestartableDevServer,
    WorkerProcess,
    converter,
    signer,
    vault,
    wait_polling,
)
from temporalio.client import Client

from adapters.db.eventstore import EventStore
from adapters.temporal.cases import CaseGateway

pytestmark = [pytest.mark.temporal, pytest.mark.db]

CASES = 3
DOWN_SECONDS = 2.0


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RestartableDevServer]:
    server = RestartableDevServer(tmp_path / "temporal")
    await server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_cases_continue_across_a_server_restart(
    how: str, server: RestartableDevServer, pool: asyncpg.Pool, schema_dsn: str, tmp_path: Path
) -> None:
    client = await Client.connect(server.address, data_converter=converter())
    prefix = f"r{secrets.token_hex(3)}"
    worker = WorkerProcess(server.address, schema_dsn, prefix, tmp_path / "worker.log")
    worker.start()
    walks: list[asyncio.Task[Walk]] = []
    try:
        await wait_polling(client, worker, within=60)
        gateway = CaseGateway(
            client, vault=vault(pool), signer=signer(), queue_prefix=prefix, wait_seconds=240
        )
        rng = random.Random(secrets.randbits(32))
        walks += [
            asyncio.create_task(
                walk_case(gateway, pool, new_case_id(), refuse=i == 2, pause=think_times(rng))
            )
            for i in range(CASES)
        ]
        # mid-walk: every case opened and submitted, none closed yet
        before = await wait_for_events(pool, CASES * 3, within=60)
        started = time.monotonic()
        await asyncio.to_thread(server.kill if how == "kill" else server.stop)
        await asyncio.sleep(DOWN_SECONDS)
        await server.start()
        restarted = time.monotonic() - started
        done = await asyncio.wait_for(asyncio.gather(*walks), 150)
        closed = time.monotonic() - started
        assert worker.alive(), worker.output()  # the worker rode out the outage
        await wait_polling(client, worker)  # and polls the new server
    finally:
        for walk in walks:
            walk.cancel()
        worker.stop()
    store = EventStore(pool)
    audits = [await audit_case(walk, store, client) for walk in done]
    assert before < sum(a.events for a in audits)  # the restart came in the middle
    print(
        f"server restart: {before} events stored before it; back after {restarted:.1f} s; "
        f"cases closed {closed:.1f} s after the stop; events {[a.events for a in audits]}, "
        f"tasks run again {[a.retries for a in audits]}"
    )
