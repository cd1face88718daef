"""The case event store: append-only streams with optimistic concurrency and a hash chain.

Ordering technique. `append` is one call of a PL/pgSQL function (`append_case_event` for one
event, `append_case_events` for a batch; migrations 0001 and 0006): one round trip, one
transaction. It takes a transaction-level advisory lock (keyed on the table's oid) before
reading anything, then assigns `global_position = max + 1`. PostgreSQL releases that lock only
after the commit is visible, so positions are handed out in commit order: gap-free (a failed
append consumes nothing), and a reader that has seen position p never later finds a newly
committed p' < p; a projector simply reads `global_position > checkpoint`. The price: appends
are serialised from position assignment to the end of COMMIT, WAL flush included, so many
writers get about one commit per flush instead of group commit. The alternative (a short lock
around `nextval` and the transaction id, readers filtered by `pg_snapshot_xmin`) would allow
group commit but leaves gaps on aborts and ties every reader's progress to the oldest open
transaction of the whole database; we keep the lock.

Notification. The append transaction does not NOTIFY (that would take PostgreSQL's
database-wide notify lock across its commit and wake every listener of the database); the
store hands the committed position to a `PositionAnnouncer` (adapters/db/notify.py) that
announces it after commit, coalesced, while listeners also poll.

Idempotency: when the stream is past `expected_version`, the batch is looked up by event id;
if all its ids were recorded as this very batch, the recorded events are returned (same
positions and versions) and nothing is written; a batch that overlaps only partly, or reuses
an id with other content or on another stream, raises `EventIdConflictError`.

Shapes: an event arrives as `domain.stored.NewEvent` (the one form it has on its way in, built
by the case workflow and passed on by its commit activity as it is) and comes back as
`Recorded`, a stored row with every column (`Recorded.event()` decodes it into the domain
event). `append` refuses `data` or `metadata` outside the JSON subset the hash chain covers
(`canonical.NotCanonicalizable`) before writing anything.

Outbox: `append_with(..., calls)` runs more SQL functions in the same statement and answers
their results too (the case workflow writes the notices its events cause this way,
`record_notices`, and asks `case_stream_head` whether the batch was new): everything commits
together, or nothing does. A retried append that is answered from the recorded batch runs the
calls again, so they must be idempotent themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from adapters.db import canonical
from adapters.db.notify import NOTIFY_CHANNEL, PositionAnnouncer
from domain.events import Event, from_stored
from domain.stored import NewEvent

__all__ = [
    "COLUMNS",
    "NOTIFY_CHANNEL",
    "ConcurrencyError",
    "EventIdConflictError",
    "EventStore",
    "EventStoreError",
    "Recorded",
    "SqlCall",
]

COLUMNS = (
    "global_position, stream_id, version, event_id, type, schema_version,"
    " data, metadata, recorded_at, prev_hash, hash"
)
_APPEND = """SELECT first_position, first_version, recorded_ats, first_prev_hash, hashes
    FROM append_case_events(
        $1, $2, $3, $4, $5, $6::text[]::jsonb[], $7::text[]::jsonb[], $8, $9, $10)"""
# One record value, not a FROM item (no tuplestore); jsonb goes as text, since the pool's jsonb
# codec would encode a str once more as a JSON string.
_APPEND_ONE = """SELECT append_case_event(
    $1, $2, $3, $4, $5, $6::text::jsonb, $7::text::jsonb, $8, $9, $10)"""


class EventStoreError(Exception):
    """Base of the store's own errors."""


class ConcurrencyError(EventStoreError):
    """The stream moved on since the caller read it: reload, decide again, retry."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id!r} is at version {actual}, expected {expected}")
        self.stream_id, self.expected, self.actual = stream_id, expected, actual


class EventIdConflictError(EventStoreError):
    """Some event ids of the batch were recorded before, but not as this very batch."""


def _one_event_call(stream_id: str, expected_version: int, e: NewEvent) -> list[Any]:
    """The arguments of one `append_case_event` call, canonical JSON included."""
    data, metadata = canonical.canonical_json(e.data), canonical.canonical_json(e.metadata)
    head, tail = canonical.canonical_parts(
        stream_id=stream_id,
        version=expected_version + 1,
        event_id=e.event_id,
        type=e.type,
        schema_version=e.schema_version,
        data_json=data,
        metadata_json=metadata,
    )
    return [stream_id, expected_version, e.event_id, e.type, e.schema_version, data.decode(),
            metadata.decode(), e.recorded_at, head, tail]  # fmt: skip


def _batch_call(stream_id: str, expected_version: int, events: Sequence[NewEvent]) -> list[Any]:
    """The arguments of one `append_case_events` call: one array per parameter."""
    columns: list[list[Any]] = [[] for _ in range(8)]
    for version, e in enumerate(events, start=expected_version):
        for column, value in zip(columns, _one_event_call(stream_id, version, e)[2:], strict=True):
            column.append(value)
    return [stream_id, expected_version, *columns]


def _append_call(
    stream_id: str, expected_version: int, events: Sequence[NewEvent]
) -> tuple[str, list[Any]]:
    """The SQL and arguments that append `events`: one event's call answers one record value
    (position, version, recorded_at, prev_hash, hash), a batch's call one row of the first
    event's position, version and prev_hash with arrays of every recorded_at and hash."""
    if len(events) == 1:
        return _APPEND_ONE, _one_event_call(stream_id, expected_version, events[0])
    return _APPEND, _batch_call(stream_id, expected_version, events)


def _store_error(error: asyncpg.PostgresError, stream_id: str, expected: int) -> Exception:
    """The store's own exception for a refusal by `append_case_event(s)`, else `error` itself."""
    if error.sqlstate == "RM001":
        return ConcurrencyError(stream_id, expected, int(getattr(error, "detail", None) or -1))
    if error.sqlstate == "RM002" or (
        isinstance(error, asyncpg.UniqueViolationError)
        and getattr(error, "constraint_name", None) == "case_events_event_id_key"
    ):
        return EventIdConflictError(str(error))
    return error


@dataclass(frozen=True, slots=True)
class SqlCall:
    """A SQL function to call in the statement of an append: `function(args...)`."""

    function: str
    args: tuple[Any, ...]

    def text(self, first_parameter: int) -> str:
        numbers = range(first_parameter, first_parameter + len(self.args))
        return f"{self.function}({', '.join(f'${n}' for n in numbers)})"


def _with_calls(sql: str, args: list[Any], calls: Sequence[SqlCall]) -> tuple[str, list[Any]]:
    """`sql` (a `SELECT <list> [FROM ...]`) with `calls` added to its select list."""
    head, from_, tail = sql.partition(" FROM ")
    for call in calls:
        head = f"{head}, {call.text(len(args) + 1)}"
        args = [*args, *call.args]
    return f"{head}{from_}{tail}", args


@dataclass(frozen=True, slots=True)
class Recorded:
    """One stored row of `case_events`, every column."""

    global_position: int
    stream_id: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    prev_hash: bytes
    hash: bytes

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Recorded:
        """Build from a row selected as `COLUMNS`, in that order."""
        return cls(*row)

    def event(self) -> Event:
        """The domain event this row stores (upcast if it was stored under an older schema)."""
        return from_stored(self.type, self.schema_version, self.data)

    def canonical(self) -> bytes:
        """The canonical JSON this event's hash covers (see adapters/db/canonical.py)."""
        return canonical.canonical_event(
            stream_id=self.stream_id,
            version=self.version,
            event_id=self.event_id,
            type=self.type,
            schema_version=self.schema_version,
            data=self.data,
            metadata=self.metadata,
            recorded_at=self.recorded_at,
        )


class EventStore:
    """Reads and appends case event streams through a pool bound to the store's schema."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.announcer = PositionAnnouncer(pool)

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[Recorded]:
        """Append `events` after `expected_version` (0 = new stream), atomically, idempotently."""
        recorded, _ = await self.append_with(stream_id, expected_version, events, ())
        return recorded

    async def append_with(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        calls: Sequence[SqlCall],
    ) -> tuple[list[Recorded], list[Any]]:
        """`append`, with `calls` made in the same statement; also their results, in order."""
        if not events:
            return [], []
        if len(events) > 1 and len({e.event_id for e in events}) != len(events):
            raise EventIdConflictError("the batch holds the same event id twice")
        sql, args = _with_calls(*_append_call(stream_id, expected_version, events), calls)
        results: list[Any] = []
        try:
            if len(events) == 1 and not calls:
                row = await self.pool.fetchval(sql, *args)
            else:
                fetched = await self.pool.fetchrow(sql, *args)
                assert fetched is not None
                values = list(fetched)
                width = 1 if len(events) == 1 else 5  # the one event's record, or 5 columns
                row, results = (values[0] if width == 1 else values[:5]), values[width:]
        except asyncpg.PostgresError as error:
            refusal = _store_error(error, stream_id, expected_version)
            if refusal is error:
                raise
            raise refusal from None
        assert row is not None
        position, version, recorded_at, prev, hash_ = tuple(row)[:5]
        if len(events) == 1:  # scalars
            recorded_ats, hashes = [recorded_at], [hash_]
        else:
            recorded_ats, hashes = recorded_at, hash_
        recorded = []
        for i, e in enumerate(events):
            recorded.append(
                Recorded(
                    global_position=position + i,
                    stream_id=stream_id,
                    version=version + i,
                    event_id=e.event_id,
                    type=e.type,
                    schema_version=e.schema_version,
                    data=e.data,
                    metadata=e.metadata,
                    recorded_at=recorded_ats[i],
                    prev_hash=prev,
                    hash=hashes[i],
                )
            )
            prev = hashes[i]
        self.announcer.announce(position + len(events) - 1)  # committed: wake the followers
        return recorded, results

    async def stream_version(self, stream_id: str) -> int:
        """The stream's last version, 0 if it has no events."""
        version = await self.pool.fetchval(
            "SELECT coalesce(max(version), 0) FROM case_events WHERE stream_id = $1", stream_id
        )
        return int(version)

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[Recorded]:
        """The stream's events with `version >= from_version`, in version order."""
        rows = await self.pool.fetch(
            f"SELECT {COLUMNS} FROM case_events"
            " WHERE stream_id = $1 AND version >= $2 ORDER BY version",
            stream_id,
            from_version,
        )
        return [Recorded.from_row(r) for r in rows]

    async def read_stream_as_of(
        self, stream_id: str, at: datetime | None = None, version: int | None = None
    ) -> list[Recorded]:
        """The stream as it stood at instant `at` and/or at `version` (both limits apply)."""
        rows = await self.pool.fetch(
            f"""SELECT {COLUMNS} FROM case_events WHERE stream_id = $1
                 AND ($2::timestamptz IS NULL OR recorded_at <= $2)
                 AND ($3::integer IS NULL OR version <= $3)
               ORDER BY version""",
            stream_id,
            at,
            version,
        )
        return [Recorded.from_row(r) for r in rows]

    async def read_all(self, from_position: int = 0, limit: int = 1000) -> list[Recorded]:
        """Up to `limit` events of all streams with `global_position >= from_position`, in order."""
        rows = await self.pool.fetch(
            f"SELECT {COLUMNS} FROM case_events WHERE global_position >= $1"
            " ORDER BY global_position LIMIT $2",
            from_position,
            limit,
        )
        return [Recorded.from_row(r) for r in rows]

    async def iter_all(
        self, from_position: int = 0, batch_size: int = 1000
    ) -> AsyncIterator[list[Recorded]]:
        """Batches of `read_all` until the end of the log as it is when each batch is read."""
        while batch := await self.read_all(from_position, batch_size):
            yield batch
            from_position = batch[-1].global_position + 1

    async def head(self, stream_id: str) -> tuple[int, bytes] | None:
        """The stream's last version and hash, None before its first event."""
        row = await self.pool.fetchrow(
            "SELECT version, hash FROM case_events WHERE stream_id = $1"
            " ORDER BY version DESC LIMIT 1",
            stream_id,
        )
        return None if row is None else (row["version"], bytes(row["hash"]))

    async def heads(self, stream_ids: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        """Each of `stream_ids`' last version and hash (those that have events), in one query."""
        rows = await self.pool.fetch(
            "SELECT DISTINCT ON (stream_id) stream_id, version, hash FROM case_events"
            " WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, version DESC",
            list(stream_ids),
        )
        return {r["stream_id"]: (r["version"], bytes(r["hash"])) for r in rows}

    async def hashes_at(self, stream_id: str, versions: Sequence[int]) -> dict[int, bytes]:
        """The stream's hash at each of `versions` (those it has)."""
        rows = await self.pool.fetch(
            "SELECT version, hash FROM case_events WHERE stream_id = $1 AND version = ANY($2)",
            stream_id,
            list(versions),
        )
        return {r["version"]: bytes(r["hash"]) for r in rows}

    async def last_position(self) -> int:
        """The highest global position, 0 for an empty store."""
        return int(
            await self.pool.fetchval("SELECT coalesce(max(global_position), 0) FROM case_events")
        )

    async def verify(self, stream_id: str) -> canonical.VerifyResult:
        """Recompute the stream's hash chain from its stored rows."""
        return canonical.verify_chain(stream_id, await self.read_stream(stream_id))

    async def count_streams(self) -> int:
        """How many streams `verify_all` will report on (for a progress bar)."""
        return int(await self.pool.fetchval("SELECT count(DISTINCT stream_id) FROM case_events"))

    async def stream_ids(self, after: str = "", limit: int = 1000) -> list[str]:
        """The next `limit` stream ids after `after`, in order (walking the primary key)."""
        rows = await self.pool.fetch(
            "SELECT DISTINCT stream_id FROM case_events WHERE stream_id > $1"
            " ORDER BY stream_id LIMIT $2",
            after,
            limit,
        )
        return [r["stream_id"] for r in rows]

    async def verify_all(self, prefetch: int = 2000) -> AsyncIterator[canonical.VerifyResult]:
        """Verify every stream in one consistent snapshot, yielding one result per stream."""
        async with (
            self.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            stream: list[Recorded] = []
            query = f"SELECT {COLUMNS} FROM case_events ORDER BY stream_id, version"
            async for row in conn.cursor(query, prefetch=prefetch):
                event = Recorded.from_row(row)
                if stream and event.stream_id != stream[0].stream_id:
                    yield canonical.verify_chain(stream[0].stream_id, stream)
                    stream = []
                stream.append(event)
            if stream:
                yield canonical.verify_chain(stream[0].stream_id, stream)
