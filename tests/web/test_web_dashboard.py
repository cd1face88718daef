"""How the dashboard groups cases: overdue, due within two working days of the deadline's own
calendar and time zone, the rest; and the action each case waits for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from api.web.dashboard import awaited, urgency

# Friday 30 April 2027, 10:00 in Kyiv; Monday 3 May is a public holiday in Poland only.
NOW = datetime.fromisoformat("2027-04-30T10:00:00+03:00")


def row(due: str | None, *, overdue: bool = False) -> dict[str, Any]:
    return {"next_limit": "reply" if due else None, "next_due": due, "overdue": overdue}


def deadlines(calendar: str, zone: str = "Europe/Kyiv") -> dict[str, Any]:
    return {"reply": {"calendar": calendar, "time_zone": zone}}


@pytest.mark.parametrize(
    ("due", "calendar", "expected"),
    [
        ("2027-04-30T23:59:59+03:00", "UA", "soon"),  # today
        ("2027-05-04T23:59:59+03:00", "UA", "soon"),  # Mon, Tue: the second working day
        ("2027-05-05T23:59:59+03:00", "UA", "later"),
        ("2027-05-05T23:59:59+02:00", "PL", "soon"),  # Mon 3 May is no working day in PL
        ("2027-05-05T23:59:59+02:00", "PL+UA", "soon"),  # both calendars must work
        ("2027-04-30T09:00:00+03:00", "UA", "overdue"),  # passed, escalation not yet in
        ("2027-06-30T23:59:59+03:00", "XX", "later"),  # unknown calendar: calendar days
    ],
)
def test_due_within_two_working_days_of_the_governing_calendar(
    due: str, calendar: str, expected: str
) -> None:
    zone = "Europe/Warsaw" if calendar.startswith("PL") else "Europe/Kyiv"
    level, found_zone = urgency(row(due), deadlines(calendar, zone), NOW)
    assert (level, found_zone) == (expected, zone)


def test_overdue_first_and_cases_without_a_deadline_last() -> None:
    assert urgency(row("2027-09-01T00:00:00+03:00", overdue=True), deadlines("UA"), NOW)[0] == (
        "overdue"
    )
    assert urgency(row(None), {}, NOW) == ("later", "UTC")


@pytest.mark.parametrize(
    ("status", "open_limits", "expected"),
    [
        ("draft", ["submission"], ("PL", "submit")),
        ("submitted", [], ("UA", "confirm_receipt")),
        ("received", ["reply"], ("UA", "reply")),
        ("accepted", ["transfer"], ("PL", "schedule_transfer")),
        ("transferred", ["readmission_in_error"], ("PL", "close")),
        ("closed", [], (None, None)),
    ],
)
def test_the_action_a_case_waits_for(
    status: str, open_limits: list[str], expected: tuple[str | None, str | None]
) -> None:
    assert awaited(status, open_limits, "PL", "UA") == expected


@pytest.mark.parametrize(
    ("status", "open_limits", "expected"),
    [
        ("received", ["transit_reply"], ("MD", "consent_transit")),
        ("consented", [], ("AT", "schedule_transit")),
        ("transit_scheduled", [], ("MD", "complete_transit")),
        ("transit_failed", [], ("AT", "take_back")),
        ("taken_back", [], ("AT", "close")),
    ],
)
def test_the_action_a_transit_case_waits_for(
    status: str, open_limits: list[str], expected: tuple[str | None, str | None]
) -> None:
    assert awaited(status, open_limits, "AT", "MD", "transit") == expected
