"""`commit_case_events`: a command's events and the notices they cause, in one statement.

Real PostgreSQL, the activity run by `ActivityEnvironment`. What the case workflow relies on:
notices are written with their events or not at all; a workflow task retried after a worker
died (same run, same event ids in the same order, a later instant) gets back what its first
attempt recorded, with reminders planned from the recorded deadlines, whether it decides the
same command otherwise now or another update came first then; another run's events are never
taken for its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

import asyncpg
import pytest
from factories import CASE_ID, T0, open_case, run
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.case_store import CaseStoreActivities
from adapters.db.eventstore import EventStore
from adapters.notices import group_inbox
from domain.alarms import ReminderPolicy, plan_reminders
from domain.commands import SubmitApplication
from domain.events import DeadlineSet, Event
from domain.notices import Notice, notices_for
from domain.state import CaseState
from domain.stored import NewEvent
from workflows.contracts import CommitInput, CommitResult

POLICY = ReminderPolicy()


def envelopes(
    events: Sequence[Event],
    ids: Sequence[uuid.UUID] | None = None,
    *,
    command: str = "open_case",
    causation: str | None = "update-1",
    run_id: str = "run-1",
) -> tuple[NewEvent, ...]:
    ids = ids or [uuid.uuid4() for _ in events]
    metadata: dict[str, str | None] = {
        "actor": "anna.pl",
        "command": command,
        "causation_id": causation,
        "workflow_id": CASE_ID,
        "run_id": run_id,
    }
    return tuple(NewEvent.of(i, e, metadata) for i, e in zip(ids, events, strict=True))


def commit_input(
    sent: tuple[NewEvent, ...], expected_version: int, state: CaseState | None = None
) -> CommitInput:
    notices: tuple[Notice, ...] = ()
    if state is not None:
        notices = tuple(notices_for(CASE_ID, ((e.event_id, e.event()) for e in sent), state))
    return CommitInput(
        case_id=CASE_ID,
        expected_version=expected_version,
        events=sent,
        notices=notices,
        policy=POLICY,
    )


async def commit(pool: asyncpg.Pool, request: CommitInput, **options: object) -> CommitResult:
    activities = CaseStoreActivities(EventStore(pool), **options)  # type: ignore[arg-type]
    result: CommitResult = await ActivityEnvironment().run(activities.commit_case_events, request)
    return result


async def counts(pool: asyncpg.Pool) -> tuple[int, int]:
    return (
        await pool.fetchval("SELECT count(*) FROM case_events"),
        await pool.fetchval("SELECT count(*) FROM notifications"),
    )


async def test_events_and_their_notices_are_written_together(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO officers (user_id, state, role, display_name, email)"
        " VALUES ('olena.ua', 'UA', 'officer', 'Olena', 'olena@dpsu.example')"
    )
    opened_state, opened = run([open_case()])
    sent = envelopes(opened)
    result = await commit(pool, commit_input(sent, 0))
    deadline = next(e.deadline for e in opened if isinstance(e, DeadlineSet))
    assert result.version == len(opened) and result.event_ids == tuple(e.event_id for e in sent)
    assert result.recorded == ()  # as sent
    assert result.reminders == {deadline.limit: plan_reminders(deadline, POLICY)}

    state, submitted = run([SubmitApplication(at=T0 + timedelta(hours=1))], opened_state)
    sent = envelopes(submitted, command="submit_application", causation="update-2")
    request = commit_input(sent, len(opened), state)
    assert request.notices, "submitting notifies the requested state"
    await commit(pool, request, channels=("inbox",))

    rows = await pool.fetch(
        "SELECT notice_key, recipient, channel, status FROM notifications ORDER BY id"
    )
    by_state = {n.key: n for n in request.notices}
    for row in rows:  # officers where the directory has them, the role's inbox elsewhere
        notice = by_state[row["notice_key"]]
        expected = "olena.ua" if (notice.state, notice.role) == ("UA", "officer") else None
        assert row["recipient"] == (expected or group_inbox(notice.state, notice.role))
        assert (row["channel"], row["status"]) == ("inbox", "delivered")  # e-mail not enabled
    assert sorted(r["notice_key"] for r in rows) == sorted(by_state)


async def test_email_rows_follow_the_directory_and_the_enabled_channels(
    pool: asyncpg.Pool,
) -> None:
    await pool.execute(
        "INSERT INTO officers (user_id, state, role, display_name, email) VALUES"
        " ('olena.ua', 'UA', 'officer', 'Olena', 'olena@dpsu.example'),"
        " ('taras.ua', 'UA', 'officer', 'Taras', NULL)"
    )
    opened_state, opened = run([open_case()])
    await commit(pool, commit_input(envelopes(opened), 0))
    state, submitted = run([SubmitApplication(at=T0)], opened_state)
    request = commit_input(envelopes(submitted, causation="u2"), len(opened), state)
    await commit(pool, request)
    rows = await pool.fetch(
        "SELECT recipient, channel, status FROM notifications WHERE state = 'UA'"
        " ORDER BY recipient, channel"
    )
    assert [tuple(r) for r in rows] == [
        ("olena.ua", "email", "pending"),
        ("olena.ua", "inbox", "delivered"),
        ("taras.ua", "inbox", "delivered"),
    ]


async def test_a_refused_append_writes_no_notice(pool: asyncpg.Pool) -> None:
    opened_state, opened = run([open_case()])
    await commit(pool, commit_input(envelopes(opened, run_id="run-0"), 0))
    before = await counts(pool)
    state, submitted = run([SubmitApplication(at=T0)], opened_state)
    stale = commit_input(envelopes(submitted, causation="u2"), len(opened) - 1, state)
    assert stale.notices
    with pytest.raises(ApplicationError) as refused:
        await commit(pool, stale)
    assert refused.value.type == "ConcurrencyError" and refused.value.non_retryable
    assert await counts(pool) == before  # nothing half-written


async def test_a_retried_task_gets_the_events_as_first_recorded(pool: asyncpg.Pool) -> None:
    """The worker died after the commit, before its workflow task completed: the task runs
    again on another worker, later, deciding the same command with the same ids."""
    _, first = run([open_case(at=T0)])
    sent = envelopes(first)
    await commit(pool, commit_input(sent, 0))
    before = await counts(pool)

    _, again = run([open_case(at=T0 + timedelta(seconds=12))])
    assert again != first  # other instants, other deadlines
    retried = envelopes(again, [e.event_id for e in sent])
    result = await commit(pool, commit_input(retried, 0))

    assert await counts(pool) == before  # nothing written twice
    assert list(result.recorded) == first
    stored = await EventStore(pool).read_stream(CASE_ID)
    assert [r.event() for r in stored] == first
    deadline = next(e.deadline for e in first if isinstance(e, DeadlineSet))
    assert result.reminders == {deadline.limit: plan_reminders(deadline, POLICY)}


async def test_a_retried_task_that_decides_fewer_events_gets_all_first_recorded(
    pool: asyncpg.Pool,
) -> None:
    """Time moved on between the attempts, and the same command decides otherwise now."""
    _, first = run([open_case(at=T0)])
    assert len(first) == 2
    sent = envelopes(first)
    await commit(pool, commit_input(sent, 0))
    fewer = envelopes(first[:1], [sent[0].event_id])
    result = await commit(pool, commit_input(fewer, 0))
    assert (result.version, result.superseded) == (2, False)
    assert list(result.recorded) == first
    assert result.event_ids == tuple(e.event_id for e in sent)


async def test_another_update_recorded_by_an_earlier_attempt_supersedes_the_command(
    pool: asyncpg.Pool,
) -> None:
    """The first attempt took another update first (same run, same first id): its events
    stand, and the workflow decides this command again on top of them."""
    _, first = run([open_case(at=T0)])
    sent = envelopes(first)
    await commit(pool, commit_input(sent, 0))
    before = await counts(pool)
    _, other = run([open_case(at=T0 + timedelta(seconds=12))])
    later = envelopes(other, [sent[0].event_id, uuid.uuid4()], causation="update-9")
    result = await commit(pool, commit_input(later, 0))
    assert await counts(pool) == before
    assert (result.version, result.superseded) == (2, True)
    assert list(result.recorded) == first


async def test_events_of_another_run_are_never_taken_as_ours(pool: asyncpg.Pool) -> None:
    _, first = run([open_case(at=T0)])
    sent = envelopes(first)
    await commit(pool, commit_input(sent, 0))
    _, again = run([open_case(at=T0 + timedelta(seconds=12))])
    impostor = envelopes(again, [e.event_id for e in sent], run_id="run-2")
    with pytest.raises(ApplicationError) as refused:
        await commit(pool, commit_input(impostor, 0))
    assert refused.value.type in {"ConcurrencyError", "EventIdConflictError"}
    assert refused.value.non_retryable


async def test_an_event_the_store_cannot_keep_is_refused_for_good(pool: asyncpg.Pool) -> None:
    """A value outside the JSON subset the hash chain covers is a bug upstream: the commit
    fails without retrying and writes nothing."""
    _, opened = run([open_case()])
    sent = envelopes(opened)
    broken = sent[0].model_copy(update={"data": {**sent[0].data, "amount": 1.5}})
    with pytest.raises(ApplicationError) as refused:
        await commit(pool, commit_input((broken, *sent[1:]), 0))
    assert refused.value.type == "UnstorableEvent" and refused.value.non_retryable
    assert await counts(pool) == (0, 0)
