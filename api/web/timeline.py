"""A case's timeline as data: events as marks, each deadline as a bar from its trigger to its
due instant (earlier versions of an extended deadline kept, superseded), the reminders and
escalations of each deadline, the extensions asked for, and "now" (or a replay's moment).

`build_timeline` folds the events with the domain's own `evolve` to learn when each limit was
closed; `focus` picks the window worth showing. Drawing is `api.web.timeline_svg`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from domain.decider import evolve
from domain.events import (
    DeadlineEscalated,
    DeadlineSet,
    Event,
    ReplyLimitExtended,
    TransferLimitExtended,
)
from domain.state import initial_state
from domain.values import EscalationLevel


@dataclass(frozen=True)
class Mark:
    """One event on the events lane."""

    at: datetime
    version: int
    type: str


@dataclass(frozen=True)
class Bar:
    """One deadline as one `DeadlineSet` event recorded it."""

    limit: str
    start: datetime
    due: datetime
    set_at: datetime
    version: int
    extended: bool = False
    superseded: bool = False
    closed_at: datetime | None = None
    overdue: bool = False

    def status(self, now: datetime) -> str:
        if self.superseded:
            return "superseded"
        if self.closed_at is not None:
            return "met" if self.closed_at <= self.due and not self.overdue else "late"
        return "late" if self.overdue or now > self.due else "running"


@dataclass(frozen=True)
class Alert:
    """A reminder or escalation recorded for a deadline."""

    limit: str
    at: datetime
    level: str

    @property
    def is_escalation(self) -> bool:
        return self.level.startswith("escalation")


@dataclass(frozen=True)
class Extension:
    limit: str
    at: datetime


@dataclass
class Timeline:
    marks: list[Mark] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    extensions: list[Extension] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def limits(self) -> list[str]:
        """Lanes in the order their first deadline was set."""
        return list(dict.fromkeys(bar.limit for bar in self.bars))

    def instants(self) -> list[datetime]:
        found = [self.now]
        found += [m.at for m in self.marks] + [a.at for a in self.alerts]
        for bar in self.bars:
            found += [bar.start, bar.due]
        return found


def build_timeline(events: Sequence[tuple[int, Event]], now: datetime) -> Timeline:
    """The timeline of `(version, event)` pairs as they stood at `now` (a replay passes its
    moment, so later events are simply not given)."""
    timeline = Timeline(now=now)
    state = initial_state()
    current: dict[str, int] = {}  # limit -> index of its latest bar
    for version, event in events:
        before = set(state.open_limits)
        state = evolve(state, event)
        match event:
            case DeadlineSet(deadline=deadline):
                if deadline.limit in current:
                    index = current[deadline.limit]
                    timeline.bars[index] = replace(timeline.bars[index], superseded=True)
                current[deadline.limit] = len(timeline.bars)
                timeline.bars.append(
                    Bar(
                        limit=deadline.limit,
                        start=deadline.triggered_at,
                        due=deadline.due,
                        set_at=event.at,
                        version=version,
                        extended=deadline.extended or deadline.extra_days > 0,
                    )
                )
            case DeadlineEscalated():
                timeline.alerts.append(Alert(event.limit, event.at, event.level.value))
            case ReplyLimitExtended():
                timeline.extensions.append(Extension(event.limit, event.at))
                timeline.marks.append(Mark(event.at, version, event.type))
            case TransferLimitExtended():
                timeline.extensions.append(Extension("transfer", event.at))
                timeline.marks.append(Mark(event.at, version, event.type))
            case _:
                timeline.marks.append(Mark(event.at, version, event.type))
        for closed in before - set(state.open_limits):
            if closed in current:
                index = current[closed]
                timeline.bars[index] = replace(timeline.bars[index], closed_at=event.at)
        passed = EscalationLevel.ESCALATION_PASSED
        if (
            isinstance(event, DeadlineEscalated)
            and event.level is passed
            and event.limit in current
        ):
            index = current[event.limit]
            timeline.bars[index] = replace(timeline.bars[index], overdue=True)
    return timeline


def focus(timeline: Timeline) -> tuple[datetime, datetime] | None:
    """A window around the events and now, when the whole span (a year's submission window, a
    three months' transfer limit) would squeeze them into a corner; None when it would not."""
    moments = [m.at for m in timeline.marks] + [a.at for a in timeline.alerts] + [timeline.now]
    first, last = min(moments), max(moments)
    core = max(last - first, timedelta(days=2))
    window = (first - core * 0.15, last + max(core * 0.6, timedelta(days=7)))
    instants = timeline.instants()
    if max(instants) - min(instants) <= (window[1] - window[0]) * 2.5:
        return None
    return window
