"""Issue 18's metrics against real PostgreSQL: deadlines past their due instant with no
escalation recorded and deadlines due soon, as the read model says (the alert
ReadmitDeadlinePassedWithoutEscalation and the dashboard read them), and escalations counted
as the projector applies them."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import datetime, timedelta

import asyncpg
from generators import generate, random_plan
from prometheus_client import REGISTRY

from adapters import metrics
from adapters.db import case_queries
from adapters.db.eventstore import EventStore
from adapters.db.projector import CaseProjector
from domain.events import DeadlineEscalated, Event, to_stored
from domain.state import CaseState
from domain.stored import NewEvent

SUBMIT, RECEIPT, EXPIRE = 0, 1, 13


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def store(pool: asyncpg.Pool, plans: dict[str, list[tuple[int, int]]]) -> list[CaseState]:
    states = []
    for case_id, plan in plans.items():
        state, events = generate(plan, case_id=case_id)
        stored = [to_stored(e) for e in events]
        await EventStore(pool).append(
            case_id,
            0,
            [
                NewEvent(event_id=uuid.uuid4(), type=k, schema_version=v, data=d)
                for k, v, d in stored
            ],
        )
        states.append(state)
    await CaseProjector(pool).catch_up()
    return states


def past_due(states: list[CaseState], now: datetime) -> Counter[str]:
    return Counter(
        limit
        for s in states
        for limit in s.open_limits
        if limit not in s.overdue and s.deadlines[limit].due < now
    )


def due_soon(states: list[CaseState], now: datetime) -> Counter[str]:
    return Counter(
        limit
        for s in states
        for limit in s.open_limits
        if now <= s.deadlines[limit].due < now + case_queries.DUE_SOON
    )


async def test_deadlines_past_due_without_escalation_and_due_soon(pool: asyncpg.Pool) -> None:
    rng = random.Random(18)
    plans = {f"PL-UA-2027-{n:06d}": random_plan(rng, rng.randrange(1, 8)) for n in range(40)}
    states = await store(pool, plans)
    dues = sorted(s.deadlines[limit].due for s in states for limit in s.open_limits)
    assert len(dues) > 5  # the seed gives running deadlines worth checking

    # before every due instant: nothing past due; the first ones due soon
    before = dues[0] - timedelta(hours=1)
    await metrics.refresh_read_model(pool, before)
    for limit in {limit for s in states for limit in s.open_limits}:
        assert sample("readmit_deadlines_past_due_unescalated", limit=limit) == 0
    soon = due_soon(states, before)
    assert soon
    for limit, count in soon.items():
        assert sample("readmit_deadlines_due_soon", limit=limit) == count

    # in between: the deadlines whose instant passed and whose case recorded no escalation
    middle = dues[len(dues) // 2]
    expected = past_due(states, middle)
    assert expected
    await metrics.refresh_read_model(pool, middle)
    for limit, count in expected.items():
        assert sample("readmit_deadlines_past_due_unescalated", limit=limit) == count

    # once the case records the escalation (overdue), the deadline leaves the gauge
    await pool.execute("UPDATE cases SET overdue_limits = open_limits, overdue = true")
    await metrics.refresh_read_model(pool, middle)
    for limit in expected:
        assert (
            REGISTRY.get_sample_value("readmit_deadlines_past_due_unescalated", {"limit": limit})
            is None
        )


async def test_escalations_are_counted_as_projected(pool: asyncpg.Pool) -> None:
    plan = [(SUBMIT, 1), (RECEIPT, 24), (EXPIRE, 15 * 24)]
    _, events = generate(plan, case_id="PL-UA-2027-000900")
    escalated: list[Event] = [e for e in events if isinstance(e, DeadlineEscalated)]
    assert escalated
    expected = Counter(
        (e.limit, e.level.value) for e in escalated if isinstance(e, DeadlineEscalated)
    )
    before = {
        key: sample("readmit_escalations_total", limit=key[0], level=key[1]) for key in expected
    }

    await store(pool, {"PL-UA-2027-000900": plan})

    for (limit, level), count in expected.items():
        assert sample("readmit_escalations_total", limit=limit, level=level) == (
            before[(limit, level)] + count
        )
