"""Exact deadlines: a table of triggers and the instants their limits end.

Every expected date is written literally, worked out by hand from the holiday calendars (checked
against the `holidays` package): a change in the arithmetic or in the calendar data shows up here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from domain.agreements import AgreementTerms, Limit
from domain.calendars import UnknownState
from domain.deadlines import DeadlineError, compute_deadline, deadline_for


def limit(amount: int, unit: str, frm: str = "receipt", **extra: Any) -> Limit:
    return Limit.model_validate({"amount": amount, "unit": unit, "from": frm, **extra})


def due(
    lim: Limit, trigger: str, requesting: str = "PL", requested: str = "UA", **kwargs: Any
) -> str:
    deadline = compute_deadline(
        "test",
        lim,
        datetime.fromisoformat(trigger),
        requesting=requesting,
        requested=requested,
        **kwargs,
    )
    return deadline.due.isoformat(sep=" ")


WD = "working_days"
CD = "calendar_days"
CD1, CD14 = limit(1, CD), limit(14, CD)
WD1, WD2, WD3 = limit(1, WD), limit(2, WD), limit(3, WD)
M1, M3 = limit(1, "months"), limit(3, "months")
ROLL7, ROLL14 = limit(7, CD, roll_forward=True), limit(14, CD, roll_forward=True)
H2, H48 = limit(2, "hours"), limit(48, "hours")
WD2_REQUESTING = limit(2, WD, "apprehension", calendar="requesting")

# (case, limit, trigger, "requesting>requested", expected due)
# fmt: off
TABLE: list[tuple[str, Limit, str, str, str]] = [
    # calendar days: day 0 is the trigger's local date; the limit ends at the end of day N
    ("14 cd UA", CD14, "2027-01-04 10:00+01:00", "PL>UA", "2027-01-18 23:59:59+02:00"),
    ("12 cd GE", limit(12, CD), "2025-06-02 09:00+04:00", "AT>GE", "2025-06-14 23:59:59+04:00"),
    # 2 working days from Wed 30 Apr 2025: five calendars, four answers
    ("May UA", WD2, "2025-04-30 12:00+03:00", "PL>UA", "2025-05-02 23:59:59+03:00"),
    ("May PL", WD2, "2025-04-30 12:00+02:00", "UA>PL", "2025-05-05 23:59:59+02:00"),
    ("May MD", WD2, "2025-04-30 12:00+03:00", "RO>MD", "2025-05-05 23:59:59+03:00"),
    ("May HU", WD2, "2025-04-30 12:00+02:00", "UA>HU", "2025-05-06 23:59:59+02:00"),
    ("May LV", WD2, "2025-04-30 12:00+03:00", "UA>LV", "2025-05-07 23:59:59+03:00"),
    # Christmas and New Year
    ("PL Christmas Eve", WD2, "2026-12-22 12:00+01:00", "UA>PL", "2026-12-28 23:59:59+01:00"),
    ("MD Christmas 25 Dec", WD3, "2026-12-23 12:00+02:00", "RO>MD", "2026-12-29 23:59:59+02:00"),
    ("MD New Year", WD1, "2026-12-31 12:00+02:00", "RO>MD", "2027-01-04 23:59:59+02:00"),
    ("MD Christmas 7-8 Jan", WD2, "2027-01-05 12:00+02:00", "RO>MD", "2027-01-11 23:59:59+02:00"),
    ("UA Christmas observed", WD2, "2021-12-23 12:00+02:00", "PL>UA", "2021-12-28 23:59:59+02:00"),
    ("UA New Year observed", WD1, "2021-12-31 12:00+02:00", "PL>UA", "2022-01-04 23:59:59+02:00"),
    ("UA 7 Jan + day off", WD2, "2021-01-06 12:00+02:00", "PL>UA", "2021-01-12 23:59:59+02:00"),
    ("UA working Saturday", WD1, "2021-01-15 12:00+02:00", "PL>UA", "2021-01-16 23:59:59+02:00"),
    ("UA martial law 25 Dec", WD1, "2025-12-24 12:00+02:00", "PL>UA", "2025-12-25 23:59:59+02:00"),
    # Easter: PL Easter Monday 2027 (summer time starts the day before); MD Pastele, Memorial day
    ("PL Easter Monday", WD1, "2027-03-26 12:00+01:00", "UA>PL", "2027-03-30 23:59:59+02:00"),
    ("MD Easter Monday", WD2, "2025-04-18 12:00+03:00", "RO>MD", "2025-04-23 23:59:59+03:00"),
    ("MD Memorial day 2025", WD1, "2025-04-25 12:00+03:00", "RO>MD", "2025-04-29 23:59:59+03:00"),
    ("MD Memorial day 2026", WD1, "2026-04-17 12:00+03:00", "RO>MD", "2026-04-21 23:59:59+03:00"),
    # Belarus: a working Saturday counts, the day off it pays for does not
    ("BY working Saturday", WD1, "2025-04-25 12:00+03:00", "PL>BY", "2025-04-26 23:59:59+03:00"),
    ("BY transferred day off", WD2, "2025-04-25 12:00+03:00", "PL>BY", "2025-04-30 23:59:59+03:00"),
    # month ends
    ("31 Jan + 1 month", M1, "2025-01-31 12:00+02:00", "PL>UA", "2025-02-28 23:59:59+02:00"),
    ("31 Jan + 1 month leap", M1, "2024-01-31 12:00+02:00", "PL>UA", "2024-02-29 23:59:59+02:00"),
    ("31 Mar + 3 months", M3, "2025-03-31 12:00+03:00", "PL>UA", "2025-06-30 23:59:59+03:00"),
    ("30 Nov + 3 months", M3, "2026-11-30 12:00+02:00", "PL>UA", "2027-02-28 23:59:59+02:00"),
    ("29 Feb + 1 year", limit(1, "years"), "2024-02-29 12:00+02:00", "PL>UA",
     "2025-02-28 23:59:59+02:00"),
    ("31 Aug + 6 months", limit(6, "months"), "2025-08-31 12:00+03:00", "RO>MD",
     "2026-02-28 23:59:59+02:00"),
    # DST: Europe/Kyiv switches at 03:00/04:00 on 30 Mar and 26 Oct 2025, Warsaw an hour earlier
    ("Kyiv winter", CD14, "2025-03-10 12:00+02:00", "PL>UA", "2025-03-24 23:59:59+02:00"),
    ("Kyiv into summer", CD14, "2025-03-20 12:00+02:00", "PL>UA", "2025-04-03 23:59:59+03:00"),
    ("Kyiv before switch", CD1, "2025-03-30 02:30+02:00", "PL>UA", "2025-03-31 23:59:59+03:00"),
    ("Kyiv after switch", CD1, "2025-03-30 04:30+03:00", "PL>UA", "2025-03-31 23:59:59+03:00"),
    ("Kyiv into winter", CD1, "2025-10-25 12:00+03:00", "PL>UA", "2025-10-26 23:59:59+02:00"),
    ("Warsaw before switch", CD1, "2025-03-30 01:30+01:00", "UA>PL", "2025-03-31 23:59:59+02:00"),
    ("Warsaw into winter", CD14, "2025-10-20 12:00+02:00", "UA>PL", "2025-11-03 23:59:59+01:00"),
    # a trigger in another state's offset: the governing zone's local date is day 0
    ("PL eve, Kyiv +1 day", CD14, "2027-01-04 23:30+01:00", "PL>UA", "2027-01-19 23:59:59+02:00"),
    ("UTC eve, Kyiv +1 day", CD14, "2025-06-30 22:30+00:00", "PL>UA", "2025-07-15 23:59:59+03:00"),
    ("Kyiv night, PL day-1", WD2_REQUESTING, "2027-01-05 00:30+02:00", "PL>UA",
     "2027-01-07 23:59:59+01:00"),
    # roll_forward off a weekend or holiday (calendar-day and month limits)
    ("no roll: Saturday", CD14, "2025-06-07 12:00+03:00", "PL>UA", "2025-06-21 23:59:59+03:00"),
    ("roll off Saturday", ROLL14, "2025-06-07 12:00+03:00", "PL>UA", "2025-06-23 23:59:59+03:00"),
    ("roll off PL holiday", ROLL7, "2026-11-04 12:00+01:00", "UA>PL", "2026-11-12 23:59:59+01:00"),
    ("roll: working day", ROLL7, "2026-11-03 12:00+01:00", "UA>PL", "2026-11-10 23:59:59+01:00"),
    ("roll months off Sunday", limit(1, "months", roll_forward=True), "2025-05-01 12:00+02:00",
     "UA>PL", "2025-06-02 23:59:59+02:00"),
    # hours are elapsed time, also across a DST switch
    ("48 hours", H48, "2027-01-04 10:00+01:00", "PL>UA", "2027-01-06 11:00:00+02:00"),
    ("hours into summer", H2, "2025-03-30 01:30+01:00", "UA>PL", "2025-03-30 04:30:00+02:00"),
    ("hours into winter", H2, "2025-10-26 01:30+02:00", "UA>PL", "2025-10-26 02:30:00+01:00"),
    # 'both': a day counts only if it works in both calendars; the requested state's zone governs
    ("both PL+MD", limit(2, WD, calendar="both"), "2027-01-05 12:00+02:00", "PL>MD",
     "2027-01-12 23:59:59+02:00"),
    ("requested MD only", WD2, "2027-01-05 12:00+02:00", "PL>MD", "2027-01-11 23:59:59+02:00"),
    ("requesting PL only", WD2_REQUESTING, "2027-01-05 12:00+02:00", "PL>MD",
     "2027-01-08 23:59:59+01:00"),
    # the governing calendar can be fixed to one state
    ("calendar fixed HU", limit(2, WD, calendar="HU"), "2025-04-30 12:00+03:00", "PL>UA",
     "2025-05-06 23:59:59+02:00"),
]
# fmt: on


@pytest.mark.parametrize(
    ("lim", "trigger", "pair", "expected"), [pytest.param(*row[1:], id=row[0]) for row in TABLE]
)
def test_due(lim: Limit, trigger: str, pair: str, expected: str) -> None:
    requesting, requested = pair.split(">")
    assert due(lim, trigger, requesting, requested) == expected


def test_reply_extension_up_to() -> None:
    reply = limit(14, CD, extension={"up_to": 60, "unit": CD})
    assert due(reply, "2027-01-04T10:00:00+01:00", extended=True) == "2027-03-05 23:59:59+02:00"


def test_extension_in_another_unit_never_shortens() -> None:
    # 10 PL working days from 22 Dec 2026 end on 11 Jan; "up to 12 calendar days" would be 3 Jan.
    lim = limit(10, WD, extension={"up_to": 12, "unit": CD})
    trigger = "2026-12-22T12:00:00+01:00"
    assert due(lim, trigger, "UA", "PL") == "2027-01-11 23:59:59+01:00"
    assert due(lim, trigger, "UA", "PL", extended=True) == "2027-01-11 23:59:59+01:00"


def test_extension_without_up_to_is_refused() -> None:
    with pytest.raises(DeadlineError, match="no 'up_to' extension"):
        due(
            limit(3, "months", extension={"by": "obstacle"}),
            "2027-01-04T10:00:00+01:00",
            extended=True,
        )


def test_obstacle_extra_days() -> None:
    transfer = limit(3, "months", "acceptance", calendar="requesting", extension={"by": "obstacle"})
    trigger = "2027-01-04T10:00:00+01:00"
    assert due(transfer, trigger) == "2027-04-04 23:59:59+02:00"
    assert due(transfer, trigger, extra_days=10) == "2027-04-14 23:59:59+02:00"


def test_obstacle_extension_cap() -> None:
    capped = limit(3, "months", extension={"by": "obstacle", "max_days": 30})
    assert due(capped, "2027-01-04T10:00:00+01:00", extra_days=30) == "2027-05-04 23:59:59+03:00"
    with pytest.raises(DeadlineError, match="exceeds this limit's cap of 30 days"):
        due(capped, "2027-01-04T10:00:00+01:00", extra_days=31)


def test_the_record_names_rule_calendar_and_zone() -> None:
    deadline = compute_deadline(
        "accelerated_reply",
        limit(2, WD, source="Art. 8", verified=False),
        datetime.fromisoformat("2025-04-30T12:00:00+02:00"),
        requesting="PL",
        requested="UA",
    )
    assert deadline.calendar == "UA"
    assert deadline.time_zone == "Europe/Kyiv"
    assert deadline.rule == (
        "the 2nd working day after the receipt day, ending 23:59:59 Europe/Kyiv"
    )
    assert (deadline.source, deadline.verified) == ("Art. 8", False)
    assert deadline.has_passed(datetime.fromisoformat("2025-05-03T00:00:00+03:00"))
    assert not deadline.has_passed(datetime.fromisoformat("2025-05-02T23:59:59+03:00"))


def test_time_zone_override_of_the_terms() -> None:
    lim = limit(1, CD)
    trigger = "2025-06-02T12:00:00+00:00"
    assert due(lim, trigger, time_zones={"UA": "Asia/Tbilisi"}) == "2025-06-03 23:59:59+04:00"


def test_naive_trigger_is_refused() -> None:
    with pytest.raises(DeadlineError, match="needs a UTC offset"):
        due(limit(14, CD), "2027-01-04T10:00:00")


def test_unknown_state_is_refused() -> None:
    with pytest.raises(UnknownState, match="'XX'"):
        due(limit(14, CD), "2027-01-04T10:00:00+01:00", "PL", "XX")
    with pytest.raises(UnknownState, match="'XX'"):
        due(limit(2, WD, calendar="both"), "2027-01-04T10:00:00+01:00", "XX", "UA")


def test_negative_extension_is_refused() -> None:
    with pytest.raises(DeadlineError, match="cannot be negative"):
        due(limit(14, CD), "2027-01-04T10:00:00+01:00", extra_days=-1)


def test_deadline_for_names_missing_limit(eu_ua_terms: AgreementTerms) -> None:
    with pytest.raises(DeadlineError, match="defines no 'transit_reply' limit"):
        deadline_for(
            eu_ua_terms, "transit_reply", datetime.fromisoformat("2027-01-04T10:00:00+01:00")
        )
    reply = deadline_for(eu_ua_terms, "reply", datetime.fromisoformat("2027-01-04T10:00:00+01:00"))
    assert reply.due.isoformat() == "2027-01-18T23:59:59+02:00"


@pytest.fixture
def eu_ua_terms() -> AgreementTerms:
    return AgreementTerms.model_validate(
        {
            "agreement_id": "EU-UA",
            "title": "t",
            "requesting": "PL",
            "requested": "UA",
            "in_force": "2008-01-01",
            "tcn_obligations_from": None,
            "suspensions": (),
            "time_zones": {},
            "border_region": {},
            "limits": {"reply": limit(14, CD)},
            "evidence": {},
            "transfer": {},
            "retention": {},
        }
    )
