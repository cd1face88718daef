"""Following the event log with low latency: LISTEN for the positions `append` notifies.

`append_case_events` calls `pg_notify('case_events.<schema>', <last global position>)` in the
appending transaction, so a notification arrives only after the events are committed and
readable, and only to listeners of the same schema.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from readmit.db.eventstore import NOTIFY_CHANNEL, EventStore, Recorded


class PositionListener:
    """Positions announced on the channel since the last `wait`."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[int] = asyncio.Queue()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        self._queue.put_nowait(int(str(payload)))

    async def wait(self, seconds: float | None = None) -> int | None:
        """The highest position announced (waiting up to `seconds` for one), None on timeout."""
        try:
            position = await asyncio.wait_for(self._queue.get(), seconds)
        except TimeoutError:
            return None
        while not self._queue.empty():
            position = max(position, self._queue.get_nowait())
        return position


@asynccontextmanager
async def listen_positions(pool: asyncpg.Pool) -> AsyncIterator[PositionListener]:
    """LISTEN on a connection of `pool` for as long as the context is open."""
    listener = PositionListener()
    async with pool.acquire() as conn:
        channel = f"{NOTIFY_CHANNEL}.{await conn.fetchval('SELECT current_schema()')}"
        await conn.add_listener(channel, listener._on_notify)
        try:
            yield listener
        finally:
            await conn.remove_listener(channel, listener._on_notify)


async def follow(
    store: EventStore,
    from_position: int = 0,
    *,
    batch_size: int = 1000,
    poll_seconds: float = 5.0,
) -> AsyncIterator[list[Recorded]]:
    """Batches of all events from `from_position` on, forever: read, then wait for a notify.

    Listening starts before the first read, so nothing committed in between is missed; the
    periodic poll only guards against a lost connection's missed notifications.
    """
    async with listen_positions(store.pool) as listener:
        while True:
            async for batch in store.iter_all(from_position, batch_size):
                yield batch
                from_position = batch[-1].global_position + 1
            await listener.wait(poll_seconds)
