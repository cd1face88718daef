"""The event store against a real PostgreSQL: concurrency, idempotency, immutability, order."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from pydantic import ValidationError

from adapters.db.canonical import NotCanonicalizable
from adapters.db.eventstore import (
    ConcurrencyError,
    EventIdConflictError,
    EventStore,
    Recorded,
    _append_call,
)
from adapters.db.notify import PositionAnnouncer, follow, listen_positions
from domain.stored import NewEvent


def event(n: int = 0, **changes: object) -> NewEvent:
    fields: dict[str, object] = {
        "event_id": uuid.uuid4(),
        "type": "NoteAdded",
        "schema_version": 1,
        "data": {"n": n, "text": "Ковальчук, Анна"},
        "metadata": {"actor": "officer-7", "actor_state": "UA", "role": "officer"},
    }
    return NewEvent.model_validate(fields | changes)


async def row_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM case_events"))


async def test_append_then_read_returns_every_column(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    batch = [event(1), event(2), event(3)]
    recorded = await store.append("CASE-1", 0, batch)
    assert [r.version for r in recorded] == [1, 2, 3]
    assert [r.global_position for r in recorded] == [1, 2, 3]
    assert [r.event_id for r in recorded] == [e.event_id for e in batch]
    assert recorded[0].prev_hash == bytes(32)
    assert [r.prev_hash for r in recorded[1:]] == [r.hash for r in recorded[:-1]]
    assert recorded[2].data == {"n": 3, "text": "Ковальчук, Анна"}
    assert recorded[2].metadata["role"] == "officer"
    assert await store.read_stream("CASE-1") == recorded
    assert await store.read_stream("CASE-1", from_version=3) == recorded[2:]
    assert await store.stream_version("CASE-1") == 3
    assert await store.stream_version("CASE-none") == 0
    assert (await store.verify("CASE-1")).ok


async def test_stale_expected_version_raises_and_writes_nothing(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    await store.append("CASE-1", 0, [event(1), event(2)])
    with pytest.raises(ConcurrencyError) as caught:
        await store.append("CASE-1", 1, [event(3), event(4)])
    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == ("CASE-1", 1, 2)
    assert await row_count(pool) == 2


async def test_two_concurrent_appenders_exactly_one_wins(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    for expected in range(20):
        outcomes = await asyncio.gather(
            store.append("CASE-1", expected, [event(expected, type="A")]),
            store.append("CASE-1", expected, [event(expected, type="B")]),
            return_exceptions=True,
        )
        wins = [o for o in outcomes if isinstance(o, list)]
        losses = [o for o in outcomes if isinstance(o, ConcurrencyError)]
        assert len(wins) == 1 and len(losses) == 1, outcomes
        assert losses[0].actual == expected + 1
    versions = [r.version for r in await store.read_stream("CASE-1")]
    assert versions == list(range(1, 21))
    assert (await store.verify("CASE-1")).ok


@pytest.mark.parametrize("size", [1, 2], ids=["one event", "batch"])
async def test_retry_after_lost_acknowledgement_writes_nothing(
    pool: asyncpg.Pool, size: int
) -> None:
    store = EventStore(pool)
    batch = [event(n) for n in range(size)]
    first = await store.append("CASE-1", 0, batch)  # committed, but the caller "never saw it"
    await store.append("CASE-2", 0, [event(9)])
    await store.append("CASE-1", size, [event(3)])  # someone else moved the stream on meanwhile
    before = await row_count(pool)
    again = await store.append("CASE-1", 0, batch)
    assert again == first
    assert await row_count(pool) == before


async def test_one_event_reusing_a_recorded_id_is_refused(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    recorded = event(1)
    await store.append("CASE-1", 0, [recorded])
    await store.append("CASE-1", 1, [event(2)])
    for stream_id, expected, again in [
        ("CASE-1", 0, recorded.model_copy(update={"data": {"n": 99}})),  # other content
        ("CASE-2", 0, recorded),  # another stream
    ]:
        with pytest.raises(EventIdConflictError):
            await store.append(stream_id, expected, [again])
    with pytest.raises(ConcurrencyError):
        await store.append("CASE-1", 1, [event(3)])
    assert await row_count(pool) == 2


async def test_one_event_and_batch_appends_chain_alike(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    at = datetime(2027, 1, 4, 9, 0, 0, 123456, tzinfo=UTC)
    await store.append("CASE-1", 0, [event(1)])
    await store.append("CASE-1", 1, [event(2, recorded_at=at)])
    await store.append("CASE-1", 2, [event(3), event(4, recorded_at=at)])
    await store.append("CASE-1", 4, [event(5)])
    stored = await store.read_stream("CASE-1")
    assert [r.recorded_at == at for r in stored] == [False, True, False, True, False]
    assert (await store.verify("CASE-1")).ok
    assert [r.prev_hash for r in stored[1:]] == [r.hash for r in stored[:-1]]


async def test_partial_or_changed_retry_is_refused_without_writing(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    batch = [event(1), event(2)]
    await store.append("CASE-1", 0, batch)
    attempts = [
        ("CASE-1", 2, [batch[1], event(3)]),  # half old, half new
        ("CASE-1", 0, [batch[1], batch[0]]),  # same ids, other order
        ("CASE-1", 0, [batch[0], batch[1].model_copy(update={"data": {"n": 99}})]),
        ("CASE-2", 0, batch),  # same ids, other stream
    ]
    for stream_id, expected, events in attempts:
        with pytest.raises(EventIdConflictError):
            await store.append(stream_id, expected, events)
    assert await row_count(pool) == 2


async def test_a_batch_repeating_an_event_id_is_refused(pool: asyncpg.Pool) -> None:
    twice = event(1)
    with pytest.raises(EventIdConflictError):
        await EventStore(pool).append("CASE-1", 0, [twice, twice])
    assert await row_count(pool) == 0


async def test_database_refuses_update_delete_truncate(pool: asyncpg.Pool) -> None:
    await EventStore(pool).append("CASE-1", 0, [event(1)])
    for sql in (
        "UPDATE case_events SET type = 'Other'",
        "DELETE FROM case_events",
        "TRUNCATE case_events",
    ):
        with pytest.raises(asyncpg.PostgresError, match="append-only") as caught:
            await pool.execute(sql)
        assert caught.value.sqlstate == "RM003"
    assert await row_count(pool) == 1


TAMPERINGS = {
    "a byte of data": "data = replace(data::text, 'Анна', 'Анни')::jsonb",
    "prev_hash": "prev_hash = sha256('x')",
    "hash": "hash = sha256('x')",
    "type": "type = 'NoteRemoved'",
    "metadata": 'metadata = metadata || \'{"role": "admin"}\'',
    "recorded_at": "recorded_at = recorded_at + interval '1 microsecond'",
    "a float in data": "data = data || '{\"n\": 3.0}'",
}


@pytest.mark.parametrize("change", TAMPERINGS.values(), ids=TAMPERINGS.keys())
async def test_verify_finds_rows_changed_behind_the_stores_back(
    pool: asyncpg.Pool, change: str
) -> None:
    store = EventStore(pool)
    for version in range(5):
        await store.append("CASE-1", version, [event(version)])
    await store.append("CASE-2", 0, [event(0)])
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE case_events DISABLE TRIGGER case_events_no_update_delete")
        await conn.execute(
            f"UPDATE case_events SET {change} WHERE stream_id = 'CASE-1' AND version = 3"
        )
        await conn.execute("ALTER TABLE case_events ENABLE TRIGGER case_events_no_update_delete")
    result = await store.verify("CASE-1")
    assert (result.ok, result.first_broken_version) == (False, 3), result
    assert result.checked == 3
    report = {r.stream_id: r for r in [r async for r in store.verify_all()]}
    assert report["CASE-1"].first_broken_version == 3
    assert report["CASE-2"].ok


async def test_verify_reports_a_deleted_event_as_missing(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    await store.append("CASE-1", 0, [event(1), event(2), event(3)])
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE case_events DISABLE TRIGGER case_events_no_update_delete")
        await conn.execute("DELETE FROM case_events WHERE version = 2")
        await conn.execute("ALTER TABLE case_events ENABLE TRIGGER case_events_no_update_delete")
    result = await store.verify("CASE-1")
    assert (result.ok, result.first_broken_version) == (False, 2)
    assert "missing" in (result.reason or "")


async def test_readers_never_see_positions_out_of_commit_order(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    writers, per_writer = 16, 25
    done = asyncio.Event()
    seen: list[int] = []

    async def write(w: int) -> None:
        for version in range(per_writer):
            await store.append(f"CASE-{w}", version, [event(version)])

    async def read() -> None:
        while True:
            finished = done.is_set()
            for r in await store.read_all(len(seen) + 1, limit=50):
                # a position below one already passed, or a hole filled later, would show here
                assert r.global_position == len(seen) + 1, (r.global_position, len(seen))
                seen.append(r.global_position)
            if finished:
                return

    reader = asyncio.create_task(read())
    await asyncio.gather(*(write(w) for w in range(writers)))
    done.set()
    await reader
    assert seen == list(range(1, writers * per_writer + 1))
    assert await pool.fetchval("SELECT max(global_position) = count(*) FROM case_events")


async def test_an_uncommitted_append_holds_back_later_positions(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    await store.append("CASE-0", 0, [event(0)])
    async with pool.acquire() as conn:
        slow = conn.transaction()
        await slow.start()
        sql, args = _append_call("CASE-A", 0, [event(1)])
        assert (await conn.fetchval(sql, *args))[0] == 2  # its position; not committed yet
        later = asyncio.create_task(store.append("CASE-B", 0, [event(2)]))
        await asyncio.sleep(0.3)
        assert not later.done()  # waits: it may not take position 3 before 2 is committed
        assert [r.global_position for r in await store.read_all()] == [1]
        await slow.commit()
    assert (await later)[0].global_position == 3
    assert [r.global_position for r in await store.read_all()] == [1, 2, 3]


async def test_as_of_reads_by_time_and_version(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    t0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    batch = [event(i, recorded_at=t0 + timedelta(hours=i)) for i in range(4)]
    await store.append("CASE-1", 0, batch)

    async def versions(**kwargs: object) -> list[int]:
        return [r.version for r in await store.read_stream_as_of("CASE-1", **kwargs)]  # type: ignore[arg-type]

    assert await versions() == [1, 2, 3, 4]
    assert await versions(at=t0 + timedelta(hours=1, minutes=30)) == [1, 2]
    assert await versions(at=t0 + timedelta(hours=1)) == [1, 2]
    assert await versions(at=t0 - timedelta(microseconds=1)) == []
    assert await versions(version=3) == [1, 2, 3]
    assert await versions(at=t0 + timedelta(hours=5), version=2) == [1, 2]
    assert (await store.verify("CASE-1")).ok


async def test_database_clock_orders_recorded_at_like_positions(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    for version in range(5):
        await store.append("CASE-1", version, [event(version)])
    stamps = [r.recorded_at for r in await store.read_all()]
    assert stamps == sorted(stamps)
    assert all(s.tzinfo is not None for s in stamps)


async def test_read_all_pages_in_position_order(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    for i in range(25):
        await store.append(f"CASE-{i % 3}", i // 3, [event(i)])
    pages: list[list[Recorded]] = []
    position = 1
    while page := await store.read_all(position, limit=10):
        pages.append(page)
        position = page[-1].global_position + 1
    assert [len(p) for p in pages] == [10, 10, 5]
    flat = [r.global_position for p in pages for r in p]
    assert flat == list(range(1, 26))
    batches = [b async for b in store.iter_all(11, batch_size=7)]
    assert [r.global_position for b in batches for r in b] == list(range(11, 26))
    assert await store.last_position() == 25


async def test_append_announces_positions_after_commit(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    async with listen_positions(pool) as listener:
        assert await listener.wait(0.05) is None
        sql, args = _append_call("CASE-0", 0, [event(0)])
        await pool.fetchval(sql, *args)  # the append's own transaction sends nothing
        assert await listener.wait(0.3) is None
        await store.append("CASE-1", 0, [event(1), event(2)])
        assert await listener.wait(5) == 3
    received: list[int] = []
    follower = follow(store, 1, poll_seconds=30)
    async for batch in follower:
        received += [r.global_position for r in batch]
        if len(received) == 3:
            await store.append("CASE-1", 2, [event(3)])  # arrives through NOTIFY, not polling
        if len(received) == 4:
            break
    await follower.aclose()
    assert received == [1, 2, 3, 4]


async def test_follow_polls_for_events_never_announced(pool: asyncpg.Pool) -> None:
    follower = follow(EventStore(pool), 1, poll_seconds=0.2)
    first = asyncio.ensure_future(anext(follower))
    await asyncio.sleep(0.3)  # the follower has read an empty log and waits
    sql, args = _append_call("CASE-1", 0, [event(1)])
    await pool.fetchval(sql, *args)  # committed, but its announcement "lost"
    batch = await asyncio.wait_for(first, 5)
    await follower.aclose()
    assert [r.global_position for r in batch] == [1]


async def test_announcements_are_coalesced(pool: asyncpg.Pool) -> None:
    announcer = PositionAnnouncer(pool, min_interval=0.2)
    async with listen_positions(pool) as listener:
        for position in range(1, 101):  # a burst: one NOTIFY for all of it
            announcer.announce(position)
        assert await listener.wait(5) == 100
        announcer.announce(101)  # within min_interval of the last: sent later, not lost
        announcer.announce(90)  # older than what was announced: nothing more
        assert await listener.wait(5) == 101
        assert await listener.wait(0.4) is None


@pytest.mark.parametrize(
    "data",
    [{"amount": 1.5}, {"text": "a\x00b"}, {"big": 2**53}, {"when": datetime.now(UTC)}, {1: "x"}],
    ids=["float", "nul", "unsafe int", "datetime", "int key"],
)
async def test_values_jsonb_would_change_are_refused(
    pool: asyncpg.Pool, data: dict[object, object]
) -> None:
    with pytest.raises((ValidationError, NotCanonicalizable)):
        await EventStore(pool).append("CASE-1", 0, [event(data=data)])
    assert await row_count(pool) == 0


def test_naive_recorded_at_is_refused() -> None:
    with pytest.raises(ValidationError):
        event(recorded_at=datetime(2027, 1, 4, 9, 0))
