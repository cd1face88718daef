"""Exact deadlines: a limit of an agreement applied to a trigger instant.

Rules (docs/deadlines.md): the trigger is converted to the governing calendar's time zone and
its local date is day 0. `calendar_days N` ends on day 0 + N (moved to the next working day when
`roll_forward`); `working_days N` on the N-th working day after day 0; `months`/`years` on the same
day number later (or that month's last day). Day-based deadlines end at 23:59:59 local time;
`hours N` is the trigger plus N hours. The result carries the rule, the calendar and the `holidays`
version so it can be recorded once and never silently recomputed.
"""

from __future__ import annotations

import calendar as _cal
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, Field

from domain.agreements import AgreementTerms, Frozen, Limit, OnExpiry, Trigger, Unit
from domain.calendars import HOLIDAYS_VERSION, UnknownState, is_working_day, zone_of

END_OF_DAY = time(23, 59, 59)
# Safety bound for working-day searches (a calendar with no working day would loop forever).
_MAX_SCAN_DAYS = 3660


class DeadlineError(ValueError):
    """A deadline that cannot be computed from the inputs given."""


class Deadline(Frozen):
    """A computed deadline, as recorded in a `DeadlineSet` event."""

    limit: str
    trigger: Trigger
    triggered_at: AwareDatetime
    due: AwareDatetime
    amount: int
    unit: Unit
    calendar: str = Field(description="the states whose working days count, e.g. 'UA' or 'PL+UA'")
    time_zone: str
    roll_forward: bool = False
    extended: bool = False
    extra_days: int = 0
    on_expiry: OnExpiry
    source: str
    verified: bool
    rule: str
    holidays_version: str

    def has_passed(self, at: datetime) -> bool:
        """True once `at` lies after the last instant of the limit."""
        return at > self.due


def governing_states(limit: Limit, requesting: str, requested: str) -> tuple[str, ...]:
    """The states whose working days count for `limit` (the first one's time zone governs)."""
    match limit.calendar:
        case "requested":
            return (requested,)
        case "requesting":
            return (requesting,)
        case "both":
            return (requested, requesting)
        case code:
            return (code,)


def add_months(day: date, months: int) -> date:
    """Same day number `months` later, or that month's last day if it has none."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))


def next_working_day(states: tuple[str, ...], day: date) -> date:
    """`day` itself if it is a working day in all `states`, else the next one."""
    for offset in range(_MAX_SCAN_DAYS):
        candidate = day + timedelta(days=offset)
        if is_working_day(states, candidate):
            return candidate
    raise DeadlineError(f"no working day in {'+'.join(states)} within ten years of {day}")


def nth_working_day_after(states: tuple[str, ...], day0: date, n: int) -> date:
    """The n-th working day after `day0` (day 0 itself never counts)."""
    day, counted = day0, 0
    for _ in range(_MAX_SCAN_DAYS):
        day += timedelta(days=1)
        if is_working_day(states, day):
            counted += 1
            if counted == n:
                return day
    raise DeadlineError(f"fewer than {n} working days in {'+'.join(states)} after {day0}")


def effective_amount(limit: Limit, extended: bool) -> tuple[int, Unit]:
    """The amount and unit in force: the extension's `up_to` once the limit has been extended."""
    if not extended:
        return limit.amount, limit.unit
    ext = limit.extension
    if ext is None or ext.up_to is None:
        raise DeadlineError("this limit has no 'up_to' extension")
    return ext.up_to, ext.unit or limit.unit


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 21st ... for the rule text."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _check_extra_days(limit: Limit, extra_days: int) -> None:
    if extra_days < 0:
        raise DeadlineError("an extension cannot be negative")
    ext = limit.extension
    if extra_days and ext is not None and ext.max_days is not None and extra_days > ext.max_days:
        raise DeadlineError(
            f"an obstacle extension of {extra_days} days exceeds this limit's cap of "
            f"{ext.max_days} days"
        )


def _due(
    limit: Limit,
    amount: int,
    unit: Unit,
    local: datetime,
    zone: ZoneInfo,
    states: tuple[str, ...],
    extra_days: int,
) -> tuple[datetime, str]:
    """`_due_unchecked`, with dates beyond the calendar (year 9999) as a `DeadlineError`."""
    try:
        return _due_unchecked(limit, amount, unit, local, zone, states, extra_days)
    except (OverflowError, ValueError) as error:
        if isinstance(error, (DeadlineError, UnknownState)):
            raise
        raise DeadlineError(f"the deadline falls beyond the calendar ({error})") from None


def _due_unchecked(
    limit: Limit,
    amount: int,
    unit: Unit,
    local: datetime,
    zone: ZoneInfo,
    states: tuple[str, ...],
    extra_days: int,
) -> tuple[datetime, str]:
    """The due instant and its rule text for `amount` `unit` from `local`, the trigger in `zone`."""
    trigger = limit.from_.value
    if unit is Unit.HOURS:
        # Elapsed hours: add in UTC so a DST switch neither adds nor removes an hour.
        utc_due = local.astimezone(UTC) + timedelta(hours=amount + 24 * extra_days)
        rule = f"{amount} hours after {trigger}"
        if extra_days:
            rule += f", extended by {extra_days} days"
        return utc_due.astimezone(zone), rule
    day0 = local.date()
    match unit:
        case Unit.CALENDAR_DAYS:
            due_day = day0 + timedelta(days=amount)
            rule = f"{amount} calendar days after the {trigger} day"
        case Unit.WORKING_DAYS:
            due_day = nth_working_day_after(states, day0, amount)
            rule = f"the {ordinal(amount)} working day after the {trigger} day"
        case Unit.MONTHS:
            due_day = add_months(day0, amount)
            rule = f"{amount} {'month' if amount == 1 else 'months'} after the {trigger} day"
        case Unit.YEARS:
            due_day = add_months(day0, 12 * amount)
            rule = f"{amount} {'year' if amount == 1 else 'years'} after the {trigger} day"
    if extra_days:
        due_day += timedelta(days=extra_days)
        rule += f", extended by {extra_days} days"
    if limit.roll_forward and unit is not Unit.WORKING_DAYS:
        rolled = next_working_day(states, due_day)
        if rolled != due_day:
            rule += f", moved from {due_day.isoformat()} to the next working day"
        due_day = rolled
    return datetime.combine(due_day, END_OF_DAY, tzinfo=zone), f"{rule}, ending 23:59:59 {zone.key}"


def compute_deadline(
    name: str,
    limit: Limit,
    trigger_at: datetime,
    *,
    requesting: str,
    requested: str,
    time_zones: dict[str, str] | None = None,
    extended: bool = False,
    extra_days: int = 0,
) -> Deadline:
    """Apply `limit` to `trigger_at`; `extended` uses the extension amount, `extra_days` adds an
    obstacle extension in calendar days after the due day. An extension never shortens a limit."""
    if trigger_at.tzinfo is None or trigger_at.utcoffset() is None:
        raise DeadlineError(
            "the trigger instant needs a UTC offset, e.g. 2027-01-04T10:00:00+01:00"
        )
    _check_extra_days(limit, extra_days)
    states = governing_states(limit, requesting, requested)
    zone = zone_of(states[0], time_zones)
    local = trigger_at.astimezone(zone)
    amount, unit = effective_amount(limit, extended)
    due, rule = _due(limit, amount, unit, local, zone, states, extra_days)
    if extended:
        # An extension in another unit (e.g. working -> calendar days) could end earlier.
        original, _ = _due(limit, limit.amount, limit.unit, local, zone, states, extra_days)
        if original > due:
            due, rule = original, f"{rule}; kept at the original limit, which ends later"

    return Deadline(
        limit=name,
        trigger=limit.from_,
        triggered_at=trigger_at,
        due=due,
        amount=amount,
        unit=unit,
        calendar="+".join(states),
        time_zone=zone.key,
        roll_forward=limit.roll_forward,
        extended=extended,
        extra_days=extra_days,
        on_expiry=limit.on_expiry,
        source=limit.source,
        verified=limit.verified,
        rule=rule,
        holidays_version=HOLIDAYS_VERSION,
    )


def deadline_for(
    terms: AgreementTerms,
    name: str,
    trigger_at: datetime,
    *,
    extended: bool = False,
    extra_days: int = 0,
) -> Deadline:
    """`compute_deadline` for a named limit of resolved terms."""
    limit = terms.limits.get(name)
    if limit is None:
        raise DeadlineError(
            f"agreement {terms.agreement_id} defines no '{name}' limit "
            f"(it has: {', '.join(sorted(terms.limits)) or 'none'})"
        )
    return compute_deadline(
        name,
        limit,
        trigger_at,
        requesting=terms.requesting,
        requested=terms.requested,
        time_zones=terms.time_zones,
        extended=extended,
        extra_days=extra_days,
    )
