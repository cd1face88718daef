"""The `cases` projection on real PostgreSQL: incremental equals rebuilt, exactly once, live."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import asyncpg
import pytest
from generators import generate, random_plan

from adapters.db.eventstore import EventStore
from adapters.db.pool import create_pool
from adapters.db.projector import CaseProjector, case_row
from domain.decider import fold
from domain.events import CaseAssigned, Event, to_stored
from domain.state import CaseState
from domain.stored import NewEvent
from domain.values import Side

CASES = 2000


def new_events(events: list[Event]) -> list[NewEvent]:
    out = []
    for event in events:
        kind, version, data = to_stored(event)
        out.append(
            NewEvent(
                event_id=uuid.uuid4(),
                type=kind,
                schema_version=version,
                data=data,
                metadata={"actor": "test"},
            )
        )
    return out


def generated_cases(count: int, seed: int = 7) -> list[tuple[str, CaseState, list[Event]]]:
    rng = random.Random(seed)
    cases = []
    for number in range(count):
        case_id = f"PL-UA-2027-{number:06d}"
        state, events = generate(random_plan(rng, rng.randrange(3, 25)), case_id=case_id)
        cases.append((case_id, state, events))
    return cases


async def rows(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    records = await pool.fetch("SELECT * FROM cases ORDER BY case_id")
    return [dict(r) for r in records]


async def test_incremental_projection_equals_rebuild(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    projector = CaseProjector(pool, batch_size=137)
    cases = generated_cases(CASES)
    # cases arrive in pieces, interleaved with projector runs, as in production
    pending = [(cid, events, 0) for cid, _, events in cases]
    rng = random.Random(11)
    while pending:
        next_round = []
        for number, (case_id, events, done) in enumerate(pending):
            take = rng.randint(1, 6)
            chunk = events[done : done + take]
            await store.append(case_id, done, new_events(chunk))
            if done + take < len(events):
                next_round.append((case_id, events, done + take))
            if number % 300 == 0:
                await projector.run_once()
        pending = next_round
        await projector.run_once()
    await projector.catch_up()
    incremental = await rows(pool)
    assert len(incremental) == CASES
    # every row is the pure function of its case's events
    by_id = {cid: state for cid, state, _ in cases}
    for row in incremental[:: max(1, CASES // 200)]:
        expected = case_row(by_id[row["case_id"]], row["last_position"])
        assert row["status"] == expected[7] and row["version"] == expected[24]
        assert row["next_due"] == expected[12] and row["overdue"] == expected[13]
    assert await projector.rebuild() == await store.last_position()
    assert await rows(pool) == incremental
    assert await projector.position() == await store.last_position()


class CrashingProjector(CaseProjector):
    async def _apply(self, batch):  # type: ignore[no-untyped-def]
        result = await super()._apply(batch)
        raise RuntimeError("crash after computing, before commit")
        return result  # pragma: no cover


async def test_crash_mid_batch_neither_applies_nor_skips(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    for case_id, _, events in generated_cases(30, seed=3):
        await store.append(case_id, 0, new_events(events))
    with pytest.raises(RuntimeError):
        await CrashingProjector(pool, batch_size=50).run_once()
    assert await rows(pool) == [] and await CaseProjector(pool).position() == 0
    projector = CaseProjector(pool, batch_size=50)
    await projector.catch_up()
    projected = await rows(pool)
    assert len(projected) == 30
    for row in projected:
        stream = await store.read_stream(row["case_id"])
        assert row["version"] == len(stream)


async def test_follow_applies_new_events_with_low_latency(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    projector = CaseProjector(pool)
    stop = asyncio.Event()
    follower = asyncio.create_task(projector.follow(stop, poll_seconds=30))
    try:
        case_id, state, events = generated_cases(1, seed=5)[0]
        await asyncio.sleep(0.2)
        await store.append(case_id, 0, new_events(events))
        for _ in range(100):
            row = await pool.fetchrow("SELECT version FROM cases WHERE case_id = $1", case_id)
            if row and row["version"] == len(events):
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the projection did not follow within 2 s (LISTEN/NOTIFY)")
        assert fold(events) == state
    finally:
        stop.set()
        await follower


async def test_concurrent_catch_ups_share_a_small_pool_without_deadlock(
    database_url: str, db_schema: str
) -> None:
    """Every API command catches the projection up: many at once on a pool of 3 connections
    must all finish (a batch holds one connection and reads through another)."""
    small = await create_pool(database_url, schema=db_schema, min_size=1, max_size=3)
    try:
        store, projector = EventStore(small), CaseProjector(small, batch_size=10)
        for case_id, _, events in generated_cases(30, seed=5):
            await store.append(case_id, 0, new_events(events))
        await asyncio.wait_for(
            asyncio.gather(*(projector.catch_up() for _ in range(12))), timeout=60
        )
        assert await projector.position() == await store.last_position()
    finally:
        await small.close()


async def test_each_sides_assignee_is_projected_and_rebuilt_alike(pool: asyncpg.Pool) -> None:
    """Assignment (issue 17): the row keeps each side's assignee as the case's `CaseAssigned`
    events leave it, incrementally and rebuilt, a release clearing it."""
    store = EventStore(pool)
    projector = CaseProjector(pool, batch_size=3)
    cases = generated_cases(4, seed=17)
    moves: list[list[tuple[Side, str | None]]] = [
        [(Side.REQUESTING, "anna.pl")],
        [(Side.REQUESTING, "anna.pl"), (Side.REQUESTED, "olena.ua")],
        [(Side.REQUESTING, "anna.pl"), (Side.REQUESTING, "marek.pl"), (Side.REQUESTED, "olena.ua")],
        [(Side.REQUESTED, "olena.ua"), (Side.REQUESTED, None)],
    ]
    expected = {}
    for (case_id, state, events), assignments in zip(cases, moves, strict=True):
        await store.append(case_id, 0, new_events(events))
        await projector.run_once()
        last = events[-1].at
        added: list[Event] = [
            CaseAssigned(at=last, side=side, assignee=who) for side, who in assignments
        ]
        await store.append(case_id, len(events), new_events(added))
        after = fold(added, state)
        expected[case_id] = (
            after.assignees.get("requesting"),
            after.assignees.get("requested"),
        )
    await projector.catch_up()
    incremental = await rows(pool)
    assert {
        r["case_id"]: (r["requesting_assignee"], r["requested_assignee"]) for r in incremental
    } == expected
    assert list(expected.values()) == [
        ("anna.pl", None),
        ("anna.pl", "olena.ua"),
        ("marek.pl", "olena.ua"),
        (None, None),
    ]
    await projector.rebuild()
    assert await rows(pool) == incremental
