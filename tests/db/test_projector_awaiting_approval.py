"""Replies awaiting approval in the `cases` read model (issue 17): `reply_drafted_at` is set by a
`ReplyDrafted` and cleared by whatever clears the domain's `reply_draft` (a return, the reply
approved, a supervisor's own reply, the reply limit's consequence), incrementally and rebuilt
alike; the list filter and the workload count it for the requested state only."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import asyncpg
from factories import at, open_case, run
from test_projector import new_events

from adapters.db.case_queries import ALL, CaseFilter, list_cases, workload_rows
from adapters.db.eventstore import EventStore
from adapters.db.projector import CaseProjector
from domain.commands import (
    ApproveReply,
    Command,
    ConfirmReceipt,
    DraftReply,
    ExpireLimit,
    RefuseApplication,
    ReturnReply,
    SubmitApplication,
)
from domain.events import Event
from domain.state import CaseState

SUBMIT_AT = at("2027-01-05T12:00:00+02:00")
REPLY_DUE = at("2027-01-19T23:59:59+02:00")
DRAFT_AT = at("2027-01-10T09:00:00+02:00")
LATER = at("2027-01-12T15:00:00+02:00")


def draft(at_: object = DRAFT_AT, reply: str = "accept") -> DraftReply:
    reasons = ("not a national",) if reply == "refuse" else ()
    return DraftReply(at=at_, reply=reply, reasons=reasons, by="olena.ua")


# each case: the commands after its receipt, and whether a reply then awaits approval
PATHS: dict[str, tuple[list[Command], bool]] = {
    "PL-UA-2027-000001": ([draft()], True),
    "PL-UA-2027-000002": ([draft(), ReturnReply(at=LATER, reasons=("cite",))], False),
    "PL-UA-2027-000003": ([draft(), ApproveReply(at=LATER)], False),
    "PL-UA-2027-000004": ([draft(reply="refuse"), ApproveReply(at=LATER)], False),
    "PL-UA-2027-000005": (
        [draft(), RefuseApplication(at=LATER, reasons=("the supervisor's own",))],
        False,
    ),
    "PL-UA-2027-000006": (
        [draft(), ExpireLimit(at=REPLY_DUE + timedelta(seconds=1), limit="reply")],
        False,
    ),
    "PL-UA-2027-000007": (
        [draft(), ReturnReply(at=LATER, reasons=("cite",)), draft(LATER, "refuse")],
        True,
    ),
    "PL-UA-2027-000008": ([], False),
}


def case_events(case_id: str, after: list[Command]) -> tuple[CaseState, list[Event]]:
    received: list[Command] = [open_case(case_id=case_id), SubmitApplication(at=SUBMIT_AT)]
    return run([*received, ConfirmReceipt(at=SUBMIT_AT), *after])


async def drafted_at(pool: asyncpg.Pool) -> dict[str, object]:
    rows = await pool.fetch("SELECT case_id, reply_drafted_at FROM cases ORDER BY case_id")
    return {r["case_id"]: r["reply_drafted_at"] for r in rows}


async def test_set_by_a_draft_cleared_on_every_path_and_rebuilt_alike(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    projector = CaseProjector(pool, batch_size=4)
    expected = {}
    for case_id, (after, awaiting) in PATHS.items():
        state, events = case_events(case_id, after)
        # in two pieces, so the draft is projected before what clears it
        split = len(events) - len(after) + 1 if after else len(events)
        await store.append(case_id, 0, new_events(events[:split]))
        await projector.run_once()
        await store.append(case_id, split, new_events(events[split:]))
        assert (state.reply_draft is not None) is awaiting  # the domain's own answer
        expected[case_id] = state.reply_draft.at if state.reply_draft else None
    await projector.catch_up()
    incremental = await drafted_at(pool)
    assert incremental == expected
    assert incremental["PL-UA-2027-000001"] == DRAFT_AT
    assert incremental["PL-UA-2027-000007"] == LATER  # the second draft's instant
    await projector.rebuild()
    assert await drafted_at(pool) == incremental


MIGRATION = Path(__file__).parents[2] / "adapters/db/migrations/0020_replies_awaiting_approval.sql"


async def test_the_migration_finds_the_drafts_already_awaiting(pool: asyncpg.Pool) -> None:
    """Cases projected before the column existed get it from their events: the migration (run
    again on a `cases` table without it) starts the projection again from the first event."""
    store = EventStore(pool)
    for case_id, (after, _) in PATHS.items():
        _, events = case_events(case_id, after)
        await store.append(case_id, 0, new_events(events))
    await CaseProjector(pool).catch_up()
    projected = await drafted_at(pool)
    await pool.execute("ALTER TABLE cases DROP COLUMN reply_drafted_at")
    await pool.execute(MIGRATION.read_text())
    assert set((await drafted_at(pool)).values()) == {None}
    assert await CaseProjector(pool).position() == 0
    await CaseProjector(pool).catch_up()
    assert await drafted_at(pool) == projected


async def test_only_the_requested_state_lists_and_counts_them(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    for case_id, (after, _) in PATHS.items():
        _, events = case_events(case_id, after)
        await store.append(case_id, 0, new_events(events))
    await CaseProjector(pool).catch_up()
    awaiting = {"PL-UA-2027-000001", "PL-UA-2027-000007"}

    async def listed(states: list[str], flag: bool | None) -> set[str]:
        found, _ = await list_cases(pool, CaseFilter(states=states, awaiting_approval=flag))
        return {r["case_id"] for r in found}

    assert await listed(["UA"], True) == awaiting
    assert await listed(["UA"], False) == set(PATHS) - awaiting
    assert await listed([ALL], True) == awaiting
    # the requesting state: no draft exists, whichever way it asks
    assert await listed(["PL"], True) == set()
    assert await listed(["PL"], False) == set(PATHS)
    assert await listed(["PL", "UA"], True) == awaiting

    def counted(rows: list[asyncpg.Record]) -> int:
        return sum(bool(r["awaiting_approval"]) for r in rows)

    assert counted(await workload_rows(pool, "UA")) == 2
    assert counted(await workload_rows(pool, "PL")) == 0
