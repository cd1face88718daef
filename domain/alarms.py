"""When the clock must act on a running limit: reminders, escalations, and expiry.

The reminder points are planned when a deadline is computed (they need the working-day calendar)
and recorded with it, so a replay never recomputes them. Defaults: a reminder to the acting
officer when half the period has elapsed and at 09:00 on the last working day before the due
day; an escalation to the acting side's supervisor `escalate_hours_before` the due instant; and
when the limit passes, expiry (a supervisor escalation plus the agreement's consequence).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, Field

from domain.agreements import Frozen
from domain.calendars import is_working_day
from domain.deadlines import Deadline
from domain.state import CaseState
from domain.values import EscalationLevel, Side

REMINDER_HOUR = time(9, 0)
# The instant after the last second of a limit: when it has passed.
EXPIRY_DELAY = timedelta(seconds=1)
_SCAN_DAYS = 60


class ReminderPolicy(Frozen):
    """Configurable reminder points (settings `READMIT_REMINDER_*`)."""

    half: bool = True
    working_days_before: int = Field(default=1, ge=0, le=10)
    escalate_hours_before: int = Field(default=12, ge=0, le=24 * 14)
    # how long after a limit passed (and after each repeat) its escalation is sent again while
    # the limit still runs and no supervisor acknowledged it (`domain.escalations`); 0: never
    repeat_escalation_hours: int = Field(default=24, ge=0, le=24 * 14)


class Alarm(Frozen):
    """Something the workflow does at `at`: record a reminder/escalation or expire the limit."""

    at: AwareDatetime
    limit: str
    due: AwareDatetime
    level: EscalationLevel | None = Field(default=None, description="None = expiry")
    # the n-th repeat of a passed limit's escalation (`domain.escalations`); None: not a repeat
    repeat: int | None = None

    @property
    def is_expiry(self) -> bool:
        return self.level is None


# Which side must act before each limit ends (reminders go to its officers and supervisor).
ACTING_SIDE: dict[str, Side] = {
    "submission": Side.REQUESTING,
    "accelerated_submission": Side.REQUESTING,
    "reply": Side.REQUESTED,
    "accelerated_reply": Side.REQUESTED,
    "transfer": Side.REQUESTING,
    "readmission_in_error": Side.REQUESTED,
    "error_answer": Side.REQUESTING,  # answers the claim of readmission in error
    "error_return": Side.REQUESTED,  # hands the person back
    "transit_reply": Side.REQUESTED,
    "transfer_notice_reply": Side.REQUESTED,
}


def plan_reminders(deadline: Deadline, policy: ReminderPolicy) -> tuple[Alarm, ...]:
    """The reminder and escalation instants of a deadline, strictly between trigger and due."""
    start, due = deadline.triggered_at, deadline.due
    points: list[tuple[EscalationLevel, datetime]] = []
    if policy.half:
        points.append((EscalationLevel.REMINDER_HALF, start + (due - start) / 2))
    if policy.working_days_before:
        day = _working_days_before(deadline, policy.working_days_before)
        if day is not None:
            when = datetime.combine(day, REMINDER_HOUR, tzinfo=ZoneInfo(deadline.time_zone))
            points.append((EscalationLevel.REMINDER_LAST_DAY, when))
    if policy.escalate_hours_before:
        points.append(
            (EscalationLevel.ESCALATION_NEAR, due - timedelta(hours=policy.escalate_hours_before))
        )
    return tuple(
        Alarm(at=when, limit=deadline.limit, due=due, level=level)
        for level, when in sorted(points, key=lambda p: p[1])
        if start < when < due
    )


def _working_days_before(deadline: Deadline, n: int) -> date | None:
    states = tuple(deadline.calendar.split("+"))
    day = deadline.due.date()
    counted = 0
    for _ in range(_SCAN_DAYS):
        day -= timedelta(days=1)
        if is_working_day(states, day):
            counted += 1
            if counted == n:
                return day
    return None


def next_alarm(
    state: CaseState,
    reminders: dict[str, tuple[Alarm, ...]],
    now: datetime,
    *,
    held: frozenset[str] = frozenset(),
    quiet: frozenset[str] = frozenset(),
    grace: timedelta = timedelta(0),
) -> Alarm | None:
    """The earliest thing the clock must still do for `state`'s running limits.

    `reminders` maps a limit to the reminders planned for its current deadline. Reminders already
    recorded, or made pointless because the limit has passed, are skipped; a passed limit that is
    not yet overdue expires first. A federated node (`domain.federation`) leaves the expiry of the
    `held` limits to the other node, reminds no one of the `quiet` ones (the other node's officers
    must meet them), and applies `grace` after a deadline before it expires the limit.
    """
    pending: list[Alarm] = []
    for name in state.open_limits:
        deadline = state.deadlines.get(name)
        if deadline is None:
            continue
        if name not in state.overdue and name not in held:
            expires = deadline.due + EXPIRY_DELAY + grace
            pending.append(Alarm(at=expires, limit=name, due=deadline.due))
        if deadline.has_passed(now) or name in quiet:
            continue
        recorded = {(e.level, e.due) for e in state.escalations if e.limit == name}
        pending.extend(
            alarm
            for alarm in reminders.get(name, ())
            if alarm.due == deadline.due and (alarm.level, alarm.due) not in recorded
        )
    return min(pending, key=lambda a: (a.at, a.level is None), default=None)
