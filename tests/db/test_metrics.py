"""Readmit's Prometheus metrics against real PostgreSQL: the read-model gauges say what the
projected cases say, replies are timed from receipt, the projector's lag shows when it is stuck,
and notification outcomes are counted."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import asyncpg
import pytest
from generators import generate, random_plan
from prometheus_client import REGISTRY

from adapters import metrics
from adapters.db.eventstore import EventStore
from adapters.db.projector import NAME, CaseProjector
from adapters.outbox import Dispatcher, Outgoing, SendError
from domain.events import (
    ApplicationAccepted,
    ApplicationDelivered,
    DeemedAccepted,
    Event,
    to_stored,
)
from domain.state import CaseState
from domain.stored import NewEvent

SUBMIT, RECEIPT, ACCEPT, EXPIRE = 0, 1, 4, 13


def new_events(events: list[Event]) -> list[NewEvent]:
    stored = [to_stored(e) for e in events]
    return [
        NewEvent(event_id=uuid.uuid4(), type=kind, schema_version=version, data=data)
        for kind, version, data in stored
    ]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def store_cases(
    pool: asyncpg.Pool, plans: dict[str, list[tuple[int, int]]]
) -> dict[str, tuple[CaseState, list[Event]]]:
    store = EventStore(pool)
    cases = {}
    for case_id, plan in plans.items():
        state, events = generate(plan, case_id=case_id)
        await store.append(case_id, 0, new_events(events))
        cases[case_id] = (state, events)
    return cases


async def test_read_model_gauges_count_the_projected_cases(pool: asyncpg.Pool) -> None:
    rng = random.Random(5)
    plans = {f"PL-UA-2027-{n:06d}": random_plan(rng, rng.randrange(2, 12)) for n in range(40)}
    cases = await store_cases(pool, plans)
    await CaseProjector(pool).catch_up()

    await metrics.refresh_read_model(pool)

    states = [state for state, _ in cases.values()]
    by_status = Counter(s.status.value for s in states)
    assert len(by_status) > 2  # the seed gives a mix worth checking
    for status, count in by_status.items():
        assert sample("readmit_cases", status=status, agreement="EU-UA") == count
    running = Counter(limit for s in states for limit in s.open_limits)
    assert running
    for limit, count in running.items():
        assert sample("readmit_open_deadlines", limit=limit) == count
    overdue = Counter(limit for s in states for limit in s.overdue)
    for limit, count in overdue.items():
        assert sample("readmit_overdue_deadlines", limit=limit) == count
    assert sample("readmit_overdue_cases") == sum(bool(s.overdue) for s in states)

    # a status no case has any more disappears instead of keeping its old count
    await pool.execute("UPDATE cases SET status = 'closed'")
    await metrics.refresh_read_model(pool)
    assert sample("readmit_cases", status="closed", agreement="EU-UA") == len(states)
    for status in set(by_status) - {"closed"}:
        assert (
            REGISTRY.get_sample_value("readmit_cases", {"status": status, "agreement": "EU-UA"})
            is None
        )


async def test_reply_time_is_observed_from_receipt(pool: asyncpg.Pool) -> None:
    accepted_before = sample("readmit_reply_seconds_count", requested="UA", outcome="accepted")
    sum_before = sample("readmit_reply_seconds_sum", requested="UA", outcome="accepted")
    deemed_before = sample("readmit_reply_seconds_count", requested="UA", outcome="deemed_accepted")
    plans = {
        "PL-UA-2027-000001": [(SUBMIT, 1), (RECEIPT, 24), (ACCEPT, 72)],
        "PL-UA-2027-000002": [(SUBMIT, 1), (RECEIPT, 24), (EXPIRE, 15 * 24)],
    }
    cases = await store_cases(pool, plans)
    accepted_events = cases["PL-UA-2027-000001"][1]
    # from delivery (on submission), not from the acknowledgement a day later
    received = next(e.at for e in accepted_events if isinstance(e, ApplicationDelivered))
    replied = next(e.at for e in accepted_events if isinstance(e, ApplicationAccepted))
    assert replied - received == timedelta(hours=24 + 72)
    assert any(isinstance(e, DeemedAccepted) for e in cases["PL-UA-2027-000002"][1])

    await CaseProjector(pool).catch_up()

    assert sample("readmit_reply_seconds_count", requested="UA", outcome="accepted") == (
        accepted_before + 1
    )
    assert sample("readmit_reply_seconds_sum", requested="UA", outcome="accepted") == (
        sum_before + (24 + 72) * 3600
    )
    assert sample("readmit_reply_seconds_count", requested="UA", outcome="deemed_accepted") == (
        deemed_before + 1
    )


async def wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition did not hold within 10 s")


async def test_projector_lag_shows_a_stuck_projection(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = await store_cases(pool, {"PL-UA-2027-000003": [(SUBMIT, 1), (RECEIPT, 24)]})
    appended = len(cases["PL-UA-2027-000003"][1])
    projector = CaseProjector(pool)
    catch_up = projector.catch_up

    async def stuck() -> int:
        raise asyncpg.PostgresError("the projection is stuck")

    monkeypatch.setattr(projector, "catch_up", stuck)
    stop = asyncio.Event()
    follower = asyncio.create_task(projector.follow(stop, poll_seconds=0.02))
    try:
        await wait_for(lambda: sample("readmit_projector_lag_events", projection=NAME) == appended)
        monkeypatch.setattr(projector, "catch_up", catch_up)
        await wait_for(lambda: sample("readmit_projector_lag_events", projection=NAME) == 0)
    finally:
        stop.set()
        await follower
    assert await pool.fetchval("SELECT count(*) FROM cases") == 1


class Accepting:
    async def send(self, item: Outgoing) -> None:
        return None


class Refusing:
    async def send(self, item: Outgoing) -> None:
        raise SendError("no such mailbox", permanent=True)


async def test_notification_outcomes_are_counted(pool: asyncpg.Pool) -> None:
    before = {
        (channel, outcome): sample("readmit_notifications_total", channel=channel, outcome=outcome)
        for channel, outcome in (("email", "sent"), ("webhook", "failed"))
    }
    for n, channel in enumerate(("email", "email", "webhook")):
        await pool.execute(
            "INSERT INTO notifications (key, notice_key, case_id, recipient, state, role, channel,"
            " kind, subject, payload, status) VALUES ($1, $1, 'PL-UA-2027-000123', 'anna.pl',"
            " 'PL', 'officer', $2, 'ReminderHalf', 'subject', $3, 'pending')",
            f"metrics-{n}",
            channel,
            json.dumps({}),
        )

    report = await Dispatcher(pool, Accepting(), Refusing()).run_once()

    assert (report.sent, report.failed) == (2, 1)
    assert sample("readmit_notifications_total", channel="email", outcome="sent") == (
        before["email", "sent"] + 2
    )
    assert sample("readmit_notifications_total", channel="webhook", outcome="failed") == (
        before["webhook", "failed"] + 1
    )
