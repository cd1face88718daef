"""Properties of deadline arithmetic that must hold for every trigger, state pair and amount."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.agreements import Limit, Unit
from domain.calendars import is_working_day, zone_of
from domain.deadlines import Deadline, compute_deadline, governing_states

STATES = ("UA", "PL", "MD", "BY", "HU", "LV", "GE", "RU", "AT", "RO", "DE")
ZONES = tuple(ZoneInfo(name) for name in ("Europe/Kyiv", "Europe/Warsaw", "UTC", "Asia/Tbilisi"))
DAY_UNITS = (Unit.CALENDAR_DAYS, Unit.WORKING_DAYS, Unit.MONTHS, Unit.YEARS)
MAX_AMOUNT = {
    Unit.CALENDAR_DAYS: 120,
    Unit.WORKING_DAYS: 40,
    Unit.MONTHS: 24,
    Unit.YEARS: 3,
    Unit.HOURS: 500,
}

triggers = st.datetimes(
    min_value=datetime(2019, 1, 1),
    max_value=datetime(2030, 12, 31),
    timezones=st.sampled_from(ZONES),
)
pairs = st.lists(st.sampled_from(STATES), min_size=2, max_size=2, unique=True)
calendars = st.sampled_from(("requested", "requesting", "both"))
PROPERTY = settings(max_examples=60, deadline=None)


@st.composite
def limits(draw: st.DrawFn, /, units: tuple[Unit, ...] = tuple(Unit), **extra: Any) -> Limit:
    unit = draw(st.sampled_from(units))
    amount = draw(st.integers(1, MAX_AMOUNT[unit]))
    data = {"amount": amount, "unit": unit, "from": "receipt", "calendar": draw(calendars)}
    return Limit.model_validate({**data, **extra})


def compute(lim: Limit, trigger: datetime, pair: list[str], **kwargs: Any) -> Deadline:
    return compute_deadline("p", lim, trigger, requesting=pair[0], requested=pair[1], **kwargs)


@PROPERTY
@given(limits(), triggers, pairs)
def test_due_is_monotone_in_the_amount(lim: Limit, trigger: datetime, pair: list[str]) -> None:
    longer = lim.model_copy(update={"amount": lim.amount + 1})
    assert compute(lim, trigger, pair).due <= compute(longer, trigger, pair).due


@PROPERTY
@given(limits(), triggers, pairs)
def test_due_is_after_the_trigger(lim: Limit, trigger: datetime, pair: list[str]) -> None:
    assert compute(lim, trigger, pair).due > trigger


@PROPERTY
@given(limits(units=(Unit.WORKING_DAYS,)), triggers, pairs)
def test_working_days_end_on_a_working_day(lim: Limit, trigger: datetime, pair: list[str]) -> None:
    deadline = compute(lim, trigger, pair)
    states = governing_states(lim, pair[0], pair[1])
    assert is_working_day(states, deadline.due.date())


@PROPERTY
@given(
    limits(units=(Unit.CALENDAR_DAYS, Unit.MONTHS, Unit.YEARS)),
    triggers,
    pairs,
    st.integers(0, 30),
)
def test_roll_forward_lands_on_a_working_day_never_earlier(
    lim: Limit, trigger: datetime, pair: list[str], extra_days: int
) -> None:
    rolled_limit = lim.model_copy(update={"roll_forward": True})
    plain = compute(lim, trigger, pair, extra_days=extra_days)
    rolled = compute(rolled_limit, trigger, pair, extra_days=extra_days)
    assert rolled.due >= plain.due
    assert is_working_day(governing_states(lim, pair[0], pair[1]), rolled.due.date())
    if is_working_day(governing_states(lim, pair[0], pair[1]), plain.due.date()):
        assert rolled.due == plain.due


@PROPERTY
@given(
    limits(),
    st.sampled_from(tuple(Unit)),
    st.integers(1, 200),
    triggers,
    pairs,
)
def test_an_extension_never_ends_earlier(
    lim: Limit, ext_unit: Unit, up_to: int, trigger: datetime, pair: list[str]
) -> None:
    if ext_unit is lim.unit:
        up_to = lim.amount + up_to
    extended_limit = Limit.model_validate(
        {
            **lim.model_dump(by_alias=True),
            "extension": {"up_to": min(up_to, MAX_AMOUNT[ext_unit] * 2), "unit": ext_unit},
        }
    )
    original = compute(extended_limit, trigger, pair)
    assert compute(extended_limit, trigger, pair, extended=True).due >= original.due


@PROPERTY
@given(limits(), triggers, pairs, st.integers(1, 90))
def test_obstacle_days_never_end_earlier(
    lim: Limit, trigger: datetime, pair: list[str], extra_days: int
) -> None:
    assert compute(lim, trigger, pair, extra_days=extra_days).due >= compute(lim, trigger, pair).due


@PROPERTY
@given(limits(units=DAY_UNITS), triggers, pairs)
def test_day_units_end_at_23_59_59_in_the_governing_zone(
    lim: Limit, trigger: datetime, pair: list[str]
) -> None:
    deadline = compute(lim, trigger, pair)
    zone = zone_of(governing_states(lim, pair[0], pair[1])[0])
    assert deadline.due.tzinfo == zone
    assert deadline.due.time() == time(23, 59, 59)
    # the offset is the zone's real one on that day (no stale offset carried over DST)
    assert deadline.due.utcoffset() == zone.utcoffset(deadline.due.replace(tzinfo=None))


@PROPERTY
@given(st.integers(1, 500), triggers, pairs)
def test_hours_are_elapsed_time(hours: int, trigger: datetime, pair: list[str]) -> None:
    lim = Limit.model_validate({"amount": hours, "unit": "hours", "from": "notice"})
    due = compute(lim, trigger, pair).due
    elapsed = due.astimezone(UTC) - trigger.astimezone(UTC)
    assert elapsed.total_seconds() == hours * 3600
