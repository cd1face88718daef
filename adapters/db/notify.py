"""Following the event log with low latency: positions announced after commit, and LISTEN.

`EventStore.append` hands the last position it committed to a `PositionAnnouncer`, which sends
`pg_notify('case_events.<schema>', <position>)` in a transaction of its own, after the append's
commit: so a notification always names events that are readable, and only listeners of the same
schema hear it. Announcements are coalesced (at most one in flight, then at most one per
`min_interval`), so a burst of appends costs a handful of NOTIFYs. NOTIFY is not sent inside
the append itself because it takes PostgreSQL's database-wide notify lock across the commit,
serialising every append, and wakes every listening backend of the database.

An announcement can be lost (the appending process dies right after its commit, the pool is
closing): listeners therefore also poll, and `follow` catches up by reading, never by trusting
the payload.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg
import structlog

if TYPE_CHECKING:
    from adapters.db.eventstore import EventStore, Recorded

log = structlog.get_logger(__name__)

NOTIFY_CHANNEL = "case_events"  # suffixed with the schema: `case_events.<schema>`
_NOTIFY = f"SELECT pg_notify('{NOTIFY_CHANNEL}.' || current_schema(), $1)"


class PositionAnnouncer:
    """Announces appended positions on the pool's schema channel, after commit, coalesced."""

    def __init__(self, pool: asyncpg.Pool, min_interval: float = 0.05) -> None:
        self.pool = pool
        self.min_interval = min_interval
        self._wanted = 0  # the highest position handed to `announce`
        self._busy = False  # a send is in flight or scheduled, on `_loop`
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_sent_at = -math.inf
        self._tasks: set[asyncio.Task[None]] = set()

    def announce(self, position: int) -> None:
        """Have `position` (committed) announced soon; returns at once, never raises."""
        self._wanted = max(self._wanted, position)
        loop = asyncio.get_running_loop()
        if not self._busy or self._loop is not loop:  # a closed loop's schedule is void
            self._busy, self._loop = True, loop
            self._schedule()

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._last_sent_at + self.min_interval - loop.time()
        if delay > 0:
            loop.call_later(delay, self._start)
        else:
            self._start()

    def _start(self) -> None:
        task = asyncio.get_running_loop().create_task(self._send())
        self._tasks.add(task)  # a strong reference until done
        task.add_done_callback(self._tasks.discard)

    async def _send(self) -> None:
        position = self._wanted
        try:
            if not self.pool.is_closing():
                await self.pool.execute(_NOTIFY, str(position))
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as error:
            # listeners poll as well: a lost announcement only delays them
            log.warning("append announcement lost", error_type=type(error).__name__)
        except BaseException:  # cancelled at shutdown, or a bug: stop, never spin
            self._busy = False
            raise
        self._last_sent_at = asyncio.get_running_loop().time()
        if self._wanted > position:
            self._schedule()
        else:
            self._busy = False


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
    poll_seconds: float = 1.0,
) -> AsyncGenerator[list[Recorded]]:
    """Batches of all events from `from_position` on, forever: read, then wait for a notify.

    Listening starts before the first read, so nothing announced in between is missed; the
    periodic poll catches events whose announcement was lost.
    """
    async with listen_positions(store.pool) as listener:
        while True:
            async for batch in store.iter_all(from_position, batch_size):
                yield batch
                from_position = batch[-1].global_position + 1
            await listener.wait(poll_seconds)
