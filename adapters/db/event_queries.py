"""The event store's queries beyond appending and reading one stream: listing streams, reading
many at once, the SQL fragments other queries compose, and the few reads only the benches use
(each says so).

The event store is `eventstore.py` (appends, stream and log reads, hash chains) and this module,
with its own machinery in `canonical.py` (the hash chain) and `notify.py` (append
announcements): together they own the `case_events` table, and no other module names it in SQL
(tests/unit/test_sql_ownership.py scans for that). A read-model query that needs a fact only
the events hold (a deemed acceptance, the terms a case was opened under) takes it from a
fragment here rather than writing its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from adapters.db.eventstore import COLUMNS, Recorded

_IDS_PAGE = """SELECT stream_id FROM case_events WHERE stream_id > $1
    GROUP BY stream_id ORDER BY stream_id LIMIT $2"""
_STREAMS = f"""SELECT {COLUMNS} FROM case_events WHERE stream_id = ANY($1::text[])
    ORDER BY stream_id, version"""
_SNAPSHOT = """SELECT statement_timestamp(),
    (SELECT coalesce(max(global_position), 0) FROM case_events),
    (SELECT count(*) FROM (SELECT stream_id FROM case_events GROUP BY stream_id) s)"""
# Each stream's last version from the primary key alone, then one lookup of its hash.
_HEADS = """SELECT e.stream_id, e.version, e.hash
    FROM (SELECT stream_id, max(version) AS version FROM case_events GROUP BY stream_id) last
    JOIN case_events e USING (stream_id, version)"""
_ABSENT = """SELECT id FROM unnest($1::text[]) AS id
    WHERE NOT EXISTS (SELECT 1 FROM case_events e WHERE e.stream_id = id)"""
_TYPES_RECORDED = """SELECT DISTINCT stream_id, type FROM case_events
    WHERE stream_id = ANY($1::text[]) AND type = ANY($2::text[])"""
_FULL_STREAMS = """SELECT stream_id FROM case_events
    GROUP BY stream_id HAVING max(version) = $1 LIMIT $2"""


async def stream_ids(pool: asyncpg.Pool, page: int = 1000) -> AsyncIterator[str]:
    """Every stream id in the store, in order, read a page at a time (keyset pagination)."""
    after = ""
    while rows := await pool.fetch(_IDS_PAGE, after, page):
        for row in rows:
            yield row["stream_id"]
        after = rows[-1]["stream_id"]


async def read_streams(pool: asyncpg.Pool, stream_ids: Sequence[str]) -> dict[str, list[Recorded]]:
    """The events of many streams, read in one query, by stream in version order (streams
    without events are absent)."""
    streams: dict[str, list[Recorded]] = {}
    for row in await pool.fetch(_STREAMS, list(stream_ids)):
        event = Recorded.from_row(row)
        streams.setdefault(event.stream_id, []).append(event)
    return streams


async def streams_of_length(pool: asyncpg.Pool, length: int, limit: int) -> list[str]:
    """Up to `limit` ids of streams whose last version is `length`. For bench/event_store.py
    (it reads back streams it filled to a known length); nothing in Readmit itself asks."""
    return [r["stream_id"] for r in await pool.fetch(_FULL_STREAMS, length, limit)]


async def types_recorded(
    pool: asyncpg.Pool, stream_ids: Collection[str], types: Collection[str]
) -> set[tuple[str, str]]:
    """Which of `types` each of `stream_ids` holds an event of, as (stream id, type) pairs.
    For bench/federation.py (when a node has applied a receipt, many cases watched in one
    query); nothing in Readmit itself asks."""
    rows = await pool.fetch(_TYPES_RECORDED, sorted(stream_ids), sorted(types))
    return {(r["stream_id"], r["type"]) for r in rows}


async def count_events(pool: asyncpg.Pool, event_type: str | None = None) -> int:
    """How many events are stored, or how many of `event_type`. For the benches (lifecycle,
    deadline_precision, audit_verify: progress and sizes); Readmit itself never counts them."""
    count = await pool.fetchval(
        "SELECT count(*) FROM case_events WHERE $1::text IS NULL OR type = $1", event_type
    )
    return int(count)


async def analyze(pool: asyncpg.Pool) -> None:
    """Refresh the planner's statistics of the events table (as autovacuum would, later). For
    the benches (event_store, web_pages), which time queries right after a bulk fill."""
    await pool.execute("ANALYZE case_events")


def has_event_sql(stream_id: str, event_type: str) -> str:
    """SQL true when stream `stream_id` (an SQL expression, e.g. a column) holds an event of
    `event_type` (a literal type name: `[A-Za-z]+`)."""
    if not event_type.isalpha():
        raise ValueError(f"not an event type: {event_type!r}")
    return (
        f"EXISTS (SELECT 1 FROM case_events e"
        f" WHERE e.stream_id = {stream_id} AND e.type = '{event_type}')"
    )


def opening_data_sql(stream_id: str, path: str) -> str:
    """SQL giving the text at JSON `path` (a `#>>` path literal such as `{terms,retention}`)
    of the opening event (version 1) of stream `stream_id` (an SQL expression)."""
    if "'" in path:
        raise ValueError(f"not a JSON path literal: {path!r}")
    return (
        f"(SELECT e.data #>> '{path}' FROM case_events e"
        f" WHERE e.stream_id = {stream_id} AND e.version = 1)"
    )


def last_event_data_sql(stream_id: str, event_type: str, path: str) -> str:
    """SQL giving the text at JSON `path` (a `#>>` path literal such as `{plan,bcp}`) of the
    latest event of `event_type` (a literal type name: `[A-Za-z]+`) in stream `stream_id` (an
    SQL expression); NULL when the stream holds no such event."""
    if not event_type.isalpha():
        raise ValueError(f"not an event type: {event_type!r}")
    if "'" in path:
        raise ValueError(f"not a JSON path literal: {path!r}")
    return (
        f"(SELECT e.data #>> '{path}' FROM case_events e"
        f" WHERE e.stream_id = {stream_id} AND e.type = '{event_type}'"
        " ORDER BY e.version DESC LIMIT 1)"
    )


@dataclass(frozen=True, slots=True)
class StreamHead:
    """A stream's last version and that event's hash: what a checkpoint anchors."""

    stream_id: str
    version: int
    hash: bytes


@dataclass(frozen=True, slots=True)
class HeadsSnapshot:
    """Every stream's head as one consistent snapshot saw them: exactly the events at global
    positions 1 to `global_position` (positions are handed out gap-free in commit order), read
    at `taken_at` (the database's clock)."""

    taken_at: datetime
    global_position: int
    heads: list[StreamHead]


async def stream_heads(
    pool: asyncpg.Pool,
    progress: Callable[[int, int], None] | None = None,
    prefetch: int = 5000,
) -> HeadsSnapshot:
    """Every stream's head, read in one repeatable-read snapshot. `progress(done, total)` is
    called once before the first head (done 0) and then every `prefetch` heads and at the end."""
    async with (
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        snapshot = await conn.fetchrow(_SNAPSHOT)
        assert snapshot is not None
        taken_at, position, total = snapshot
        heads: list[StreamHead] = []
        if progress:
            progress(0, total)
        async for row in conn.cursor(_HEADS, prefetch=prefetch):
            heads.append(StreamHead(row[0], row[1], bytes(row[2])))
            if progress and len(heads) % prefetch == 0:
                progress(len(heads), total)
        if progress and len(heads) % prefetch:
            progress(len(heads), total)
    return HeadsSnapshot(taken_at, int(position), heads)


async def absent_streams(pool: asyncpg.Pool, stream_ids: Sequence[str]) -> list[str]:
    """Those of `stream_ids` that have no event in the store, in the order given."""
    absent = {r["id"] for r in await pool.fetch(_ABSENT, list(stream_ids))}
    return [s for s in stream_ids if s in absent]
