"""One full case on the real Temporal dev server with PostgreSQL, its worker a separate
`readmit worker` process that is SIGKILLed twice in the middle of the case and replaced."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from e2e.case_walks import ANNA, OLENA, opening
from e2e.stack_support import WorkerProcess, signer, vault
from temporalio.testing import WorkflowEnvironment

from adapters.db.eventstore import EventStore
from adapters.temporal.cases import CaseGateway
from domain.commands import (
    AcceptApplication,
    CloseCase,
    CompleteTransfer,
    ConfirmReceipt,
    ScheduleTransfer,
    SubmitApplication,
)
from domain.decider import fold
from domain.notices import notices_for

pytestmark = pytest.mark.temporal


@pytest.fixture
def worker(
    dev_env: WorkflowEnvironment, schema_dsn: str, tmp_path: Path
) -> Iterator[WorkerProcess]:
    address = dev_env.client.service_client.config.target_host
    process = WorkerProcess(
        address, schema_dsn, f"e2e{secrets.token_hex(3)}", tmp_path / "worker.log"
    )
    yield process
    process.stop()


async def test_full_case_survives_killed_workers(
    dev_env: WorkflowEnvironment, worker: WorkerProcess, pool: asyncpg.Pool
) -> None:
    gateway = CaseGateway(
        dev_env.client, vault=vault(pool), signer=signer(), queue_prefix=worker.prefix
    )
    case_id = f"PL-UA-2027-{secrets.randbelow(10**6):06d}"
    now = await dev_env.get_current_time()
    worker.start()
    await gateway.open(
        opening(case_id, now),
        ANNA,
        request_id=f"{case_id}-open",
    )
    await gateway.execute(case_id, SubmitApplication(at=now), ANNA, request_id=f"{case_id}-submit")

    # kill the worker while the receipt is being handled; a new one takes over
    receipt = asyncio.create_task(
        gateway.execute(case_id, ConfirmReceipt(at=now), OLENA, request_id=f"{case_id}-receipt")
    )
    await asyncio.sleep(0.3)
    worker.kill()
    worker.start()
    await asyncio.wait_for(receipt, 60)
    await gateway.execute(case_id, AcceptApplication(at=now), OLENA, request_id=f"{case_id}-accept")

    on = now + timedelta(days=3)
    schedule = asyncio.create_task(
        gateway.execute(
            case_id,
            ScheduleTransfer(at=now, on=on, bcp="Medyka-Shehyni", mode="land"),
            ANNA,
            request_id=f"{case_id}-schedule",
        )
    )
    await asyncio.sleep(0.2)
    worker.kill()
    worker.start()
    await asyncio.wait_for(schedule, 60)
    await gateway.execute(case_id, CompleteTransfer(at=now), ANNA, request_id=f"{case_id}-done")
    # a retried request (same idempotency key) changes nothing
    await gateway.execute(case_id, CompleteTransfer(at=now), ANNA, request_id=f"{case_id}-done")
    await gateway.execute(case_id, CloseCase(at=now), ANNA, request_id=f"{case_id}-close")

    # the run ends only once every notice is written: wait for it, then look
    await asyncio.wait_for(dev_env.client.get_workflow_handle(case_id).result(), 60)
    store = EventStore(pool)
    recorded = await store.read_stream(case_id)
    assert [r.version for r in recorded] == list(range(1, len(recorded) + 1))
    assert len({r.event_id for r in recorded}) == len(recorded)
    events = [r.event() for r in recorded]
    types = [e.type for e in events if e.type != "VerificationRecorded"]
    assert types == [
        "CaseOpened",  # an own national: no submission window, so no deadline yet
        "ApplicationSubmitted",
        "ApplicationDelivered",
        "DeadlineSet",
        "ReceiptAcknowledged",
        "ApplicationAccepted",
        "DeadlineSet",
        "TransferScheduled",
        "TransferCompleted",
        "DeadlineSet",
        "CaseClosed",
    ]
    assert (await store.verify(case_id)).ok
    # every notice the events call for was written exactly once, none more
    state = fold(events)
    expected = notices_for(
        case_id, [(r.event_id, e) for r, e in zip(recorded, events, strict=True)], state
    )
    rows = await pool.fetch("SELECT notice_key FROM notifications WHERE case_id = $1", case_id)
    assert sorted(r["notice_key"] for r in rows) == sorted(n.key for n in expected)
