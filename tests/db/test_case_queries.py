"""The read model's parties lookup on real PostgreSQL: one query for many cases, and the one-case
form the API authorises with is that same query."""

from __future__ import annotations

import uuid

import asyncpg
from factories import open_case, terms

from adapters.db.case_queries import Parties, case_parties, parties
from adapters.db.eventstore import EventStore
from adapters.db.projector import CaseProjector
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
    assert found == {case_id: Parties(*sides) for case_id, sides in OPENED.items()}
    assert await case_parties(pool, "MD-RO-2027-000001") == Parties("MD", "RO")
    assert await case_parties(pool, unknown) is None
