"""The read model's parties lookup on real PostgreSQL: one query for many cases, and the one-case
form the API authorises with is that same query; and what the requested state may know of a
case (nothing before its submission)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
from factories import T0, open_case, run, terms

from adapters.db.case_queries import CaseFilter, Parties, case_parties, list_cases, parties
from adapters.db.eventstore import EventStore
from adapters.db.projector import CaseProjector
from domain.commands import Command, SubmitApplication, WithdrawCase
from domain.decider import decide
from domain.state import initial_state
from domain.stored import NewEvent

OPENED = {"PL-UA-2027-000001": ("PL", "UA"), "MD-RO-2027-000001": ("MD", "RO")}


async def open_and_project(pool: asyncpg.Pool) -> None:
    store = EventStore(pool)
    for case_id, (requesting, requested) in OPENED.items():
        between = terms(requesting=requesting, requested=requested)
        events = decide(open_case(case_id=case_id, terms=between), initial_state())
        await store.append(case_id, 0, [NewEvent.of(uuid.uuid4(), e, {}) for e in events])
    await CaseProjector(pool).catch_up()


async def test_parties_of_many_cases_and_of_one(pool: asyncpg.Pool) -> None:
    await open_and_project(pool)
    unknown = "PL-UA-2027-999999"
    found = await parties(pool, {*OPENED, unknown})
    assert found == {case_id: Parties(*sides, disclosed=False) for case_id, sides in OPENED.items()}
    assert await case_parties(pool, "MD-RO-2027-000001") == Parties("MD", "RO", disclosed=False)
    assert await case_parties(pool, unknown) is None


async def test_a_case_is_disclosed_to_its_requested_state_once_submitted(
    pool: asyncpg.Pool,
) -> None:
    """`Parties.disclosed` and the scoped list follow `submitted_at`: a draft and a draft
    withdrawn before submission are the requesting state's alone, a submitted case both's."""
    store = EventStore(pool)
    later = T0 + timedelta(hours=1)
    histories: dict[str, list[Command]] = {
        "PL-UA-2027-000001": [],
        "PL-UA-2027-000002": [SubmitApplication(at=later)],
        "PL-UA-2027-000003": [WithdrawCase(at=later, reasons=("not needed",))],
    }
    for case_id, commands in histories.items():
        _, events = run([open_case(case_id=case_id), *commands])
        await store.append(case_id, 0, [NewEvent.of(uuid.uuid4(), e, {}) for e in events])
    await CaseProjector(pool).catch_up()

    found = await parties(pool, histories)
    assert {c: p.disclosed for c, p in found.items()} == {
        "PL-UA-2027-000001": False,
        "PL-UA-2027-000002": True,
        "PL-UA-2027-000003": False,
    }

    async def listed(states: str, **filters: Any) -> set[str]:
        rows, _ = await list_cases(pool, CaseFilter(states=(states,), **filters))
        return {r["case_id"] for r in rows}

    assert await listed("PL") == set(histories)
    assert await listed("UA") == await listed("UA", side="requested") == {"PL-UA-2027-000002"}
    assert await listed("UA", counterpart="PL") == {"PL-UA-2027-000002"}
    assert await listed("UA", status=("draft", "withdrawn")) == set()
    assert await listed("*") == set(histories)
