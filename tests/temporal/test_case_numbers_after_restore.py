"""Case numbers after the database went back in time (issue 18): the numbering is reset to an
older state while Temporal keeps its workflows; opening a case then still succeeds, with a
number past every existing workflow, and the counter is moved so that later openings do not
collide again. A closed case's number is never opened a second time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from case_system import CaseSystem
from structlog.testing import capture_logs
from test_case_workflow import ANNA, now

from adapters.agreements.catalogue import load_catalogue
from adapters.db.case_numbers import last_number
from adapters.temporal.case_numbers import fresh_case_id, workflow_exists
from adapters.temporal.cases import CommandRefused
from domain.commands import OpenCase
from domain.values import EvidenceItem, Person

pytestmark = pytest.mark.temporal
PREFIX = "PL-UA-2027"


async def opened(system: CaseSystem) -> str:
    """Open a case with the next free number, as `POST /cases` does."""
    case_id = await fresh_case_id(system.pool, system.client, "PL", "UA", 2027)
    await system.gateway.open(await opening(system, case_id), ANNA)
    return case_id


async def opening(system: CaseSystem, case_id: str) -> OpenCase:
    at = await now(system)
    return OpenCase(
        at=at,
        case_id=case_id,
        terms=load_catalogue().terms("EU-UA", "PL", "UA"),
        category="own_national",
        person=Person(surname="Kovalenko", given_names="Iryna", birth_date=date(1988, 2, 3)),
        evidence=(EvidenceItem(kind="passport", number="FB654321"),),
        knowledge_at=at - timedelta(days=1),
    )


async def test_opening_after_the_numbering_went_back_takes_a_fresh_number(
    case_system: CaseSystem,
) -> None:
    first = [await opened(case_system) for _ in range(5)]
    assert first == [f"{PREFIX}-{n:06d}" for n in range(1, 6)]

    # the database restored from a dump taken after the second opening
    await case_system.pool.execute("UPDATE case_numbers SET last = 2 WHERE prefix = $1", PREFIX)
    with capture_logs() as logs:
        again = await opened(case_system)
    assert again == f"{PREFIX}-000006"
    assert await last_number(case_system.pool, PREFIX) == 6
    collisions = [e for e in logs if e["event"] == "case_numbers.collision"]
    assert [(e["case_id"], e["advanced_past"]) for e in collisions] == [
        (f"{PREFIX}-000003", f"{PREFIX}-000005")
    ]
    # the counter moved: the next opening does not collide
    with capture_logs() as logs:
        assert await opened(case_system) == f"{PREFIX}-000007"
    assert not [e for e in logs if e["event"] == "case_numbers.collision"]

    # reset altogether (the row gone, as in an empty database): past every workflow again
    await case_system.pool.execute("DELETE FROM case_numbers")
    assert await opened(case_system) == f"{PREFIX}-000008"


async def test_a_closed_case_is_never_opened_again_under_its_number(
    case_system: CaseSystem,
) -> None:
    case_id = await opened(case_system)
    await case_system.client.get_workflow_handle(case_id).terminate("closed, as far as ids go")
    assert await workflow_exists(case_system.client, case_id)
    # the gateway itself refuses to start a second run of the closed workflow...
    with pytest.raises(CommandRefused) as refused:
        await case_system.gateway.open(await opening(case_system, case_id), ANNA)
    assert refused.value.type == "CaseNumberTaken"
    # ...and the numbering, reset, skips it
    await case_system.pool.execute("DELETE FROM case_numbers")
    assert await opened(case_system) == f"{PREFIX}-000002"
