"""The `cases` projection: one row per case for lists and dashboards, folded from the log.

Exactly once: each batch is applied in one transaction that also moves the checkpoint, taken
with `FOR UPDATE` so concurrent projectors serialise; a crash rolls both back, so no event is
applied twice or skipped. The projector catches up from its checkpoint at start, then follows
new events as `append` announces them (LISTEN/NOTIFY, with a polling fallback), and can rebuild
from zero into the same result: the row is a pure function of the case's events (`case_row`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from adapters import metrics
from adapters.db.eventstore import EventStore, Recorded
from adapters.db.notify import listen_positions
from adapters.db.person_index import clear as clear_person_index
from adapters.db.person_index import replace_entries
from adapters.protection.blind_index import INDEXED_EVENTS, BlindIndex
from adapters.protection.sealing import CaseSealer
from domain.decider import evolve, fold
from domain.state import CaseState
from domain.values import Person, Sealed, Side

if TYPE_CHECKING:
    from adapters.protection.vault import PersonalDataVault

log = structlog.get_logger(__name__)

NAME = "cases"
ERASED_SUMMARY = "[personal data erased]"
# The summary never brings a name back once the case's key is erased: the erasure blanks the
# row in its own transaction, and a projection racing it (its key read just before) keeps the
# blank row as it finds it locked and updated, or sees the erased key when inserting.
_UPSERT = f"""
INSERT INTO cases (
    case_id, requesting, requested, agreement_id, protocol_state, procedure, category, status,
    person_summary, deadlines, open_limits, next_limit, next_due, overdue, overdue_limits,
    unverified_parameters, verification_status, opened_at, submitted_at, received_at,
    replied_at, transferred_at, closed_at, updated_at, version, last_position, kind,
    requesting_assignee, requested_assignee, reply_drafted_at
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
          CASE WHEN EXISTS (SELECT 1 FROM case_keys k WHERE k.case_id = $1
                            AND k.erased_at IS NOT NULL)
               THEN '{ERASED_SUMMARY}' ELSE $9 END,
          $10, $11, $12, $13, $14, $15, $16, $17, $18,
          $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)
ON CONFLICT (case_id) DO UPDATE SET
    status = EXCLUDED.status,
    person_summary = CASE WHEN cases.person_summary = '{ERASED_SUMMARY}'
                          THEN cases.person_summary ELSE EXCLUDED.person_summary END,
    deadlines = EXCLUDED.deadlines, open_limits = EXCLUDED.open_limits,
    next_limit = EXCLUDED.next_limit, next_due = EXCLUDED.next_due,
    overdue = EXCLUDED.overdue, overdue_limits = EXCLUDED.overdue_limits,
    unverified_parameters = EXCLUDED.unverified_parameters,
    verification_status = EXCLUDED.verification_status,
    submitted_at = EXCLUDED.submitted_at, received_at = EXCLUDED.received_at,
    replied_at = EXCLUDED.replied_at, transferred_at = EXCLUDED.transferred_at,
    closed_at = EXCLUDED.closed_at, updated_at = EXCLUDED.updated_at,
    version = EXCLUDED.version, last_position = EXCLUDED.last_position,
    requesting_assignee = EXCLUDED.requesting_assignee,
    requested_assignee = EXCLUDED.requested_assignee,
    reply_drafted_at = EXCLUDED.reply_drafted_at
"""


def person_summary(state: CaseState, sealer: CaseSealer | None = None) -> str:
    """Surname, first initial, birth year: enough to tell cases apart in a list.

    A sealed person is opened with the case's `sealer`; without one (its key erased) the
    summary says so.
    """
    if state.person is None:
        return ""
    if isinstance(state.person, Sealed) and sealer is None:
        return ERASED_SUMMARY
    person = sealer.open_person(state.person) if sealer else state.person
    assert isinstance(person, Person)
    return f"{person.surname.upper()} {person.given_names[:1].upper()}., {person.birth_date.year}"


def case_row(state: CaseState, position: int, sealer: CaseSealer | None = None) -> tuple[Any, ...]:
    """The `cases` row of a folded case (a pure function of its events and its key's state:
    rebuilds give the same rows)."""
    terms = state.terms
    assert terms is not None and state.case_id is not None and state.opened_at is not None
    assert state.procedure is not None and state.category is not None
    following = state.next_deadline
    deadlines = {
        name: {
            "due": d.due.isoformat(),
            "time_zone": d.time_zone,
            "calendar": d.calendar,
            "rule": d.rule,
            "verified": d.verified,
            "extended": d.extended or d.extra_days > 0,
            "running": name in state.open_limits,
        }
        for name, d in sorted(state.deadlines.items())
    }
    return (
        state.case_id,
        terms.requesting,
        terms.requested,
        terms.agreement_id,
        terms.protocol_state,
        state.procedure.value,
        state.category.value,
        state.status.value,
        person_summary(state, sealer),
        deadlines,
        list(state.open_limits),
        following.limit if following else None,
        following.due if following else None,
        bool(state.overdue),
        list(state.overdue),
        list(state.unverified_parameters),
        state.verification.status.value if state.verification else None,
        state.opened_at,
        state.submitted_at,
        state.received_at,
        state.replied_at,
        state.transferred_at,
        state.closed_at,
        state.updated_at,
        state.version,
        position,
        state.kind.value,
        state.assignees.get(Side.REQUESTING.value),
        state.assignees.get(Side.REQUESTED.value),
        # a reply awaiting approval on the requested side: exactly `evolve`'s `reply_draft`
        state.reply_draft.at if state.reply_draft is not None else None,
    )


class CaseProjector:
    def __init__(
        self,
        pool: asyncpg.Pool,
        batch_size: int = 500,
        cache_size: int = 10_000,
        vault: PersonalDataVault | None = None,
        index: BlindIndex | None = None,
    ) -> None:
        self.pool = pool
        self.vault = vault
        self.index = index  # the person search's blind index, kept with the rows (issue 17)
        # One batch at a time per process: a batch holds a connection (and the checkpoint's row
        # lock) while it reads through the pool, so concurrent batches could hold every pooled
        # connection, waiting on the row lock, while the lock's holder waits for a connection.
        self._running = asyncio.Lock()
        self.store = EventStore(pool)
        self.batch_size = batch_size
        self.cache: OrderedDict[str, CaseState] = OrderedDict()
        self.cache_size = cache_size

    async def position(self) -> int:
        value = await self.pool.fetchval(
            "SELECT position FROM projection_checkpoints WHERE name = $1", NAME
        )
        return int(value or 0)

    async def run_once(self) -> int:
        """Apply the next batch of events after the checkpoint; returns how many."""
        async with self._running, self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0)"
                " ON CONFLICT (name) DO NOTHING",
                NAME,
            )
            position = int(
                await conn.fetchval(
                    "SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE", NAME
                )
            )
            batch = await self.store.read_all(position + 1, self.batch_size)
            if not batch:
                return 0
            states = await self._apply(batch)
            sealers = await self._sealers(states)
            await self._index(conn, batch, states, sealers)
            await conn.executemany(
                _UPSERT, [case_row(s, p, sealers.get(c)) for c, (s, p) in states.items()]
            )
            await conn.execute(
                "UPDATE projection_checkpoints SET position = $2 WHERE name = $1",
                NAME,
                batch[-1].global_position,
            )
        return len(batch)

    async def _index(
        self,
        conn: PoolConnectionProxy,
        batch: list[Recorded],
        states: dict[str, tuple[CaseState, int]],
        sealers: dict[str, CaseSealer | None],
    ) -> None:
        """Index again the person of each case whose person or evidence the batch records."""
        if self.index is None:
            return
        touched = {r.stream_id for r in batch if r.type in INDEXED_EVENTS}
        index = self.index
        entries = {c: index.case_entries(states[c][0], sealers.get(c)) for c in sorted(touched)}
        sealed = {c for c in touched if isinstance(states[c][0].person, Sealed)}
        await replace_entries(conn, entries, sealed=sealed)

    async def _sealers(
        self, states: dict[str, tuple[CaseState, int]]
    ) -> dict[str, CaseSealer | None]:
        sealed = [c for c, (s, _) in states.items() if isinstance(s.person, Sealed)]
        if not sealed or self.vault is None:
            return {}
        return await self.vault.sealers(sealed)

    async def _apply(self, batch: list[Recorded]) -> dict[str, tuple[CaseState, int]]:
        touched: dict[str, tuple[CaseState, int]] = {}
        for record in batch:
            state = touched[record.stream_id][0] if record.stream_id in touched else None
            if state is None:
                state = await self._state_before(record)
            event = record.event()
            metrics.observe_reply(state, event)
            metrics.observe_escalation(event)
            state = evolve(state, event)
            touched[record.stream_id] = (state, record.global_position)
        for stream_id, (state, _) in touched.items():
            self.cache[stream_id] = state
            self.cache.move_to_end(stream_id)
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        return touched

    async def _state_before(self, record: Recorded) -> CaseState:
        cached = self.cache.get(record.stream_id)
        if cached is not None and cached.version == record.version - 1:
            return cached
        earlier = await self.store.read_stream(record.stream_id)
        return fold(r.event() for r in earlier if r.version < record.version)

    async def behind(self) -> bool:
        """Whether the store holds events past the checkpoint: two reads, no lock, no write
        (the store's own SQL gives its last position)."""
        return await self.position() < await self.store.last_position()

    async def catch_up(self) -> int:
        """Apply every event committed before the call (an officer's command waits on it): a
        batch shorter than `batch_size` reached the end (positions follow commit order), and
        a checkpoint already there costs one read, not a locking transaction."""
        total = 0
        while await self.behind():
            applied = await self.run_once()
            total += applied
            if applied < self.batch_size:
                break
        return total

    async def rebuild(self) -> int:
        """Drop the projection and fold every stream again from position 1."""
        async with self._running, self.pool.acquire() as conn, conn.transaction():
            await conn.execute("LOCK TABLE projection_checkpoints IN EXCLUSIVE MODE")
            await conn.execute("DELETE FROM cases")
            await clear_person_index(conn)
            await conn.execute("DELETE FROM projection_checkpoints WHERE name = $1", NAME)
        self.cache.clear()
        return await self.catch_up()

    async def follow(self, stop: asyncio.Event, poll_seconds: float = 1.0) -> None:
        """Catch up, then apply new events as they are announced, until `stop` is set.

        A lost database pauses the projection, not the follower: it retries every
        `poll_seconds`, then listens again and catches up from its checkpoint."""
        while not stop.is_set():
            try:
                async with listen_positions(self.pool) as listener:
                    while not stop.is_set():
                        metrics.set_projector_lag(
                            NAME, await self.store.last_position(), await self.position()
                        )
                        applied = await self.catch_up()
                        if applied:
                            log.info("projected", events=applied, projection=NAME)
                        await _until(listener.wait(poll_seconds), stop)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                # OSError covers refused connections and pool timeouts (TimeoutError)
                log.warning("projection paused", error_type=type(error).__name__)
                await _until(asyncio.sleep(poll_seconds), stop)


async def erase_person_summaries(
    conn: asyncpg.Connection | PoolConnectionProxy, case_ids: Sequence[str]
) -> None:
    """Blank the list summaries of `case_ids`, whose data keys were just erased: called in the
    erasing transaction, so no list shows a name once its key is gone."""
    await conn.execute(
        "UPDATE cases SET person_summary = $2 WHERE case_id = ANY($1)",
        list(case_ids),
        ERASED_SUMMARY,
    )


async def _until(waiting: Coroutine[Any, Any, object], stop: asyncio.Event) -> None:
    """Wait for `waiting` or for `stop`, whichever comes first."""
    waiter = asyncio.ensure_future(waiting)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in (waiter, stopper):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
