"""Event store throughput against plain asyncpg INSERTs into an equivalent table.

Both sides run in one process, on the same PostgreSQL, through the same pool (asyncpg, one
pooled call per append or insert), with the same rows: the same `data` and `metadata` dicts,
built as `NewEvent`s before the clock starts (so the store's validation is not timed, and
neither is the baseline's row building).

- store: `EventStore.append`, i.e. canonical JSON in Python, then one call of
  `append_case_event(s)`: the global advisory lock (positions gap-free in commit order), version
  check, idempotency check, hash chain, CHECK constraints and the append-only triggers; after
  commit, the coalesced position announcement (NOTIFY, at most one per 50 ms).
- raw: `pool.execute(INSERT ...)` into `raw_events`: the same columns, primary key
  `(stream_id, version)`, unique `event_id` and unique `global_position` (an identity column),
  jsonb through the pool's codec, random 32-byte hashes; no lock, no check, no chain, no NOTIFY.

Writes alternate store and raw rounds after one untimed round of each; each metric reports the
median rate of each side and their ratio, plus the median and range of the ratios of adjacent
store/raw round pairs (less sensitive to the load drifting on a shared machine).
"append 1 event, 16 writers, raw + global lock" is a reference, not the store: the same raw
INSERTs, each in a PL/pgSQL call that first takes one transaction-level advisory lock, i.e. the
ceiling that serialising commits (the ordering technique) alone puts on 16 writers.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from adapters.db.event_queries import analyze, streams_of_length
from adapters.db.eventstore import COLUMNS, EventStore, Recorded
from adapters.db.migrate import migrate_dsn
from adapters.db.pool import connect, create_pool, quote_ident
from adapters.settings import get_settings
from domain.stored import NewEvent

TARGET_RATIO = 0.8  # one writer against plain INSERTs (issue 18; 0.7 before)
REPLAY_TARGET = 100_000  # events/s folded in a full replay, on the reference machine
RAW_TABLE = """
CREATE TABLE raw_events (
    global_position bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    stream_id       text        NOT NULL,
    version         integer     NOT NULL,
    event_id        uuid        NOT NULL UNIQUE,
    type            text        NOT NULL,
    schema_version  integer     NOT NULL,
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    prev_hash       bytea       NOT NULL,
    hash            bytea       NOT NULL,
    PRIMARY KEY (stream_id, version)
)"""
RAW_INSERT = """INSERT INTO raw_events
    (stream_id, version, event_id, type, schema_version, data, metadata, prev_hash, hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"""
RAW_LOCKED_INSERT = """
CREATE FUNCTION raw_insert_locked(p_stream_id text, p_version integer, p_event_id uuid,
    p_type text, p_schema_version integer, p_data jsonb, p_metadata jsonb, p_prev_hash bytea,
    p_hash bytea) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1919250276, 'raw_events'::regclass::oid::integer);
    INSERT INTO raw_events
        (stream_id, version, event_id, type, schema_version, data, metadata, prev_hash, hash)
        VALUES (p_stream_id, p_version, p_event_id, p_type, p_schema_version, p_data,
                p_metadata, p_prev_hash, p_hash);
END $$"""
RAW_LOCKED = "SELECT raw_insert_locked($1, $2, $3, $4, $5, $6, $7, $8, $9)"
RAW_STREAM = f"SELECT {COLUMNS} FROM raw_events WHERE stream_id = $1 ORDER BY version"
RAW_PAGE = f"SELECT {COLUMNS} FROM raw_events WHERE global_position >= $1 ORDER BY 1 LIMIT $2"
RAW_FULL_STREAMS = "SELECT stream_id FROM raw_events GROUP BY 1 HAVING max(version) = 100 LIMIT 50"

Rate = Callable[[], Awaitable[tuple[int, float]]]  # one round: (events, seconds)


def new_event(stream_id: str, n: int) -> NewEvent:
    """A realistic small case event (~400 bytes of JSON)."""
    return NewEvent(
        event_id=uuid.uuid4(),
        type="PersonIdentified",
        schema_version=1,
        data={
            "person": {"surname": "Ковальчук", "given": "Anna", "born": "1990-01-01"},
            "document": {"kind": "passport", "number": f"FA{n:06d}", "state": "UA"},
            "note": "identity confirmed against the registry extract " * 2,
            "seq": n,
        },
        metadata={
            "actor": "officer-7",
            "actor_state": "PL",
            "role": "officer",
            "correlation_id": str(uuid.uuid4()),
            "workflow_id": f"case-{stream_id}",
        },
    )


def raw_row(stream_id: str, version: int, e: NewEvent) -> tuple[Any, ...]:
    fake = os.urandom(32)
    return (stream_id, version, e.event_id, e.type, 1, e.data, e.metadata, fake, fake)


async def timed(work: Awaitable[Any], events: int) -> tuple[int, float]:
    started = time.perf_counter()
    await work
    return events, time.perf_counter() - started


class Workloads:
    """Each method returns a store round and a raw round of one workload."""

    def __init__(self, pool: asyncpg.Pool, quick: bool) -> None:
        self.pool, self.store, self.scale = pool, EventStore(pool), 5 if quick else 1
        self.round = 0

    def _tag(self) -> str:
        self.round += 1
        return f"r{self.round}"

    def single(self, writers: int, total: int) -> tuple[Rate, Rate]:
        per_writer = total // writers // self.scale

        async def store_round() -> tuple[int, float]:
            tag = self._tag()
            plan = [[new_event(f"{tag}-{w}", i) for i in range(per_writer)] for w in range(writers)]

            async def write(w: int) -> None:
                for version, e in enumerate(plan[w]):
                    await self.store.append(f"{tag}-{w}", version, [e])

            return await timed(
                asyncio.gather(*(write(w) for w in range(writers))), writers * per_writer
            )

        return store_round, self._raw_single(writers, per_writer, RAW_INSERT)

    def serialised_raw(self, writers: int, total: int) -> tuple[Rate, Rate]:
        """Raw INSERTs behind one global transaction-level lock, against plain raw INSERTs."""
        per_writer = total // writers // self.scale
        return (
            self._raw_single(writers, per_writer, RAW_LOCKED),
            self._raw_single(writers, per_writer, RAW_INSERT),
        )

    def _raw_single(self, writers: int, per_writer: int, sql: str) -> Rate:
        async def raw_round() -> tuple[int, float]:
            tag = self._tag()
            plan = [
                [raw_row(f"{tag}-{w}", i + 1, new_event(tag, i)) for i in range(per_writer)]
                for w in range(writers)
            ]

            async def write(w: int) -> None:
                for row in plan[w]:
                    await self.pool.execute(sql, *row)

            return await timed(
                asyncio.gather(*(write(w) for w in range(writers))), writers * per_writer
            )

        return raw_round

    def batched(self, batches: int, size: int) -> tuple[Rate, Rate]:
        batches //= self.scale

        async def store_round() -> tuple[int, float]:
            tag = self._tag()
            plan = [[new_event(tag, i) for i in range(size)] for _ in range(batches)]

            async def write() -> None:
                for b, events in enumerate(plan):
                    await self.store.append(f"{tag}-b{b}", 0, events)

            return await timed(write(), batches * size)

        async def raw_round() -> tuple[int, float]:
            tag = self._tag()
            plan = [
                [raw_row(f"{tag}-b{b}", i + 1, new_event(tag, i)) for i in range(size)]
                for b in range(batches)
            ]

            async def write() -> None:
                async with self.pool.acquire() as conn:
                    for rows in plan:
                        async with conn.transaction():
                            await conn.executemany(RAW_INSERT, rows)

            return await timed(write(), batches * size)

        return store_round, raw_round

    def stream_reads(self, reads: int) -> tuple[Rate, Rate]:
        reads //= self.scale

        async def store_round() -> tuple[int, float]:
            ids = await streams_of_length(self.pool, 100, 50)

            async def read() -> None:
                for i in range(reads):
                    await self.store.read_stream(ids[i % len(ids)])

            return await timed(read(), reads)

        async def raw_round() -> tuple[int, float]:
            ids = [r["stream_id"] for r in await self.pool.fetch(RAW_FULL_STREAMS)]

            async def read() -> None:
                for i in range(reads):
                    [tuple(r) for r in await self.pool.fetch(RAW_STREAM, ids[i % len(ids)])]

            return await timed(read(), reads)

        return store_round, raw_round

    def replay(self) -> tuple[Rate, Rate]:
        def fold(state: int, event: Recorded) -> int:
            return state + event.version

        async def store_round() -> tuple[int, float]:
            count = 0

            async def read() -> None:
                nonlocal count
                state = 0
                async for batch in self.store.iter_all(1, 1000):
                    for event in batch:
                        state = fold(state, event)
                    count += len(batch)

            seconds = (await timed(read(), 0))[1]
            return count, seconds

        async def raw_round() -> tuple[int, float]:
            count = 0

            async def read() -> None:
                nonlocal count
                position, state = 1, 0
                while rows := await self.pool.fetch(RAW_PAGE, position, 1000):
                    for row in rows:
                        state += row["version"]
                    count += len(rows)
                    position = rows[-1]["global_position"] + 1

            seconds = (await timed(read(), 0))[1]
            return count, seconds

        return store_round, raw_round


async def measure(name: str, unit: str, pair: tuple[Rate, Rate], rounds: int) -> dict[str, Any]:
    """One untimed round of each (every pooled connection prepares its statements and PL/pgSQL
    plans first), then alternate store and raw rounds; the metric is the median rate of each,
    with the median and range of the ratios of adjacent round pairs."""
    for rate_fn in pair:
        await rate_fn()
    store_rates: list[float] = []
    raw_rates: list[float] = []
    for _ in range(rounds):
        for rate_fn, rates in zip(pair, (store_rates, raw_rates), strict=True):
            events, seconds = await rate_fn()
            rates.append(events / seconds)
    value, baseline = statistics.median(store_rates), statistics.median(raw_rates)
    paired = [a / b for a, b in zip(store_rates, raw_rates, strict=True)]
    print(
        f"  {name}: store {value:,.0f} {unit}, raw {baseline:,.0f} ({value / baseline:.2f};"
        f" pairs {statistics.median(paired):.2f}, {min(paired):.2f}-{max(paired):.2f})"
    )
    return {
        "name": name,
        "unit": unit,
        "value": value,
        "baseline": baseline,
        "ratio": value / baseline,
        "paired_ratios": {
            "median": statistics.median(paired),
            "min": min(paired),
            "max": max(paired),
        },
        "rounds": {"store": store_rates, "raw": raw_rates},
    }


async def run(quick: bool) -> dict[str, Any]:
    dsn = get_settings().dsn()
    schema = f"bench_{secrets.token_hex(4)}"
    await migrate_dsn(dsn, schema=schema, create_schema=True)
    pool = await create_pool(dsn, schema=schema, min_size=17, max_size=17)
    try:
        await pool.execute(RAW_TABLE)
        await pool.execute(RAW_LOCKED_INSERT)
        settings = {
            r["name"]: r["setting"]
            for r in await pool.fetch(
                "SELECT name, setting FROM pg_settings WHERE name = ANY($1)",
                ["server_version", "fsync", "synchronous_commit", "shared_buffers", "wal_level"],
            )
        }
        work, rounds = Workloads(pool, quick), 1 if quick else 7  # short rounds: less noise
        metrics = [
            await measure("append 1 event, 1 writer", "events/s", work.single(1, 600), rounds),
            await measure("append 1 event, 16 writers", "events/s", work.single(16, 2400), rounds),
            await measure(
                "append 1 event, 16 writers, raw + global lock",
                "events/s",
                work.serialised_raw(16, 2400),
                min(rounds, 4),
            ),
            await measure("append 100 events/batch", "events/s", work.batched(40, 100), rounds),
        ]
        await analyze(pool)  # as autovacuum would, and the same for the raw table
        await pool.execute("ANALYZE raw_events")
        metrics += [
            await measure("read a 100-event stream", "streams/s", work.stream_reads(400), rounds),
            await measure("replay all, fold", "events/s", work.replay(), min(rounds, 3)),
        ]
        one, sixteen = metrics[0]["ratio"], metrics[1]["ratio"]
        metrics[2]["reference"] = "not the store: raw INSERTs serialised by one global lock"
        replay = metrics[-1]
        print(
            f"  replay: {replay['value']:,.0f} events/s folded (target {REPLAY_TARGET:,}),"
            f" {replay['ratio']:.2f} of reading the rows ({replay['baseline']:,.0f}/s)"
        )
        return {
            "metrics": metrics,
            "target": {
                "ratio": TARGET_RATIO,
                "met_by_one_writer": one >= TARGET_RATIO,
                "met_by_sixteen_writers": sixteen >= TARGET_RATIO,
                "replay_events_per_second": REPLAY_TARGET,
                "met_by_replay": replay["value"] >= REPLAY_TARGET,
            },
            "machine": {"postgresql": settings},
        }
    finally:
        await pool.close()
        conn = await connect(dsn)
        await conn.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
        await conn.close()
