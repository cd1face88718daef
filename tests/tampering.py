"""What a database superuser can do to history behind the store's back: with the append-only
triggers off (`session_replication_role = replica`) rewrite an event and recompute every later
hash with the project's own chain code, cut a stream's tail, or delete a stream. Each leaves
every remaining chain intact, so only an anchor kept outside the database (a checkpoint) tells.
Importable from any test folder (tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import dataclasses
from typing import Any

import asyncpg

from adapters.db import canonical
from adapters.db.eventstore import EventStore


async def rewrite_event(pool: asyncpg.Pool, case_id: str, version: int, **data: Any) -> None:
    """Merge `data` into the event at `version`, then re-hash it and every later event."""
    stored = await EventStore(pool).read_stream(case_id)
    prev = stored[version - 2].hash if version > 1 else canonical.ZERO_HASH
    rewritten = []
    for event in stored[version - 1 :]:
        if event.version == version:
            event = dataclasses.replace(event, data={**event.data, **data})
        event = dataclasses.replace(event, prev_hash=prev)
        event = dataclasses.replace(event, hash=canonical.chain_hash(prev, event.canonical()))
        rewritten.append(event)
        prev = event.hash
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        for event in rewritten:
            await conn.execute(
                "UPDATE case_events SET data = $3, prev_hash = $4, hash = $5"
                " WHERE stream_id = $1 AND version = $2",
                case_id,
                event.version,
                event.data,
                event.prev_hash,
                event.hash,
            )
    assert (await EventStore(pool).verify(case_id)).ok  # the chain verifies again


async def truncate_tail(pool: asyncpg.Pool, case_id: str, keep: int) -> None:
    """Delete the stream's events after version `keep`."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        deleted = await conn.execute(
            "DELETE FROM case_events WHERE stream_id = $1 AND version > $2", case_id, keep
        )
    assert deleted != "DELETE 0"


async def delete_stream(pool: asyncpg.Pool, case_id: str) -> None:
    """Delete every event of the stream."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        deleted = await conn.execute("DELETE FROM case_events WHERE stream_id = $1", case_id)
    assert deleted != "DELETE 0"
