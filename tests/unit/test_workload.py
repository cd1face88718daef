"""Counting a state's workload per officer (`api.workload.tally`): each open case counts once for
its assignee on the state's side (or as unassigned), as overdue, due soon (its next deadline
ends within two working days of the deadline's calendar) or neither."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.directory import TeamMember
from api.workload import tally

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # a Monday
DEADLINE = {"time_zone": "Europe/Warsaw", "calendar": "PL+UA"}
TEAM = [
    TeamMember("anna.pl", "officer", "Anna"),
    TeamMember("marek.pl", "officer", "Marek"),
    TeamMember("piotr.pl", "supervisor", "Piotr"),
]


def case(assignee: str | None, due_in: timedelta | None, overdue: bool = False) -> dict[str, Any]:
    return {
        "assignee": assignee,
        "next_limit": "reply" if due_in is not None else None,
        "next_due": NOW + due_in if due_in is not None else None,
        "overdue": overdue,
        "deadlines": {"reply": DEADLINE} if due_in is not None else {},
    }


def test_each_case_counts_once_for_its_assignee() -> None:
    rows = [
        case("anna.pl", timedelta(days=20), overdue=True),  # a limit passed: overdue
        case("anna.pl", timedelta(hours=-1)),  # its next deadline passed: overdue
        case("anna.pl", timedelta(days=1)),  # Tuesday: due soon
        case("anna.pl", timedelta(days=30)),
        case("marek.pl", None),  # no deadline running
        case(None, timedelta(days=2)),  # Wednesday, the second working day: due soon
        case(None, timedelta(days=3)),  # Thursday: later
        case("gone.pl", timedelta(days=1)),  # no longer in the directory
    ]
    found = tally("PL", TEAM, rows, NOW)
    by_officer = {
        load.officer: (load.cases, load.overdue, load.due_soon, load.active)
        for load in found.officers
    }
    assert by_officer == {
        "anna.pl": (4, 2, 1, True),
        "gone.pl": (1, 0, 1, False),
        "marek.pl": (1, 0, 0, True),
        "piotr.pl": (0, 0, 0, True),
    }
    assert [load.officer for load in found.officers] == sorted(k or "" for k in by_officer)
    u = found.unassigned
    assert (u.officer, u.cases, u.overdue, u.due_soon) == (None, 2, 0, 1)


def test_working_days_not_calendar_days_make_a_deadline_due_soon() -> None:
    friday = datetime(2027, 3, 5, 10, 0, tzinfo=UTC)
    monday_next = case(None, timedelta(days=3))  # Friday + 3 days: Monday, the first working day
    tuesday_next = case(None, timedelta(days=4))  # the second working day
    wednesday_next = case(None, timedelta(days=5))
    found = tally("PL", [], [monday_next, tuesday_next, wednesday_next], friday)
    assert (found.unassigned.cases, found.unassigned.due_soon) == (3, 2)
