"""Escalations a supervisor acknowledges, and the repeats that stop when they do (issue 17).

When a limit passes and the case goes on waiting for its act (`OnExpiry.ESCALATE`: the limit
stays open and overdue), its escalation to the acting side's supervisors is sent again every
`ReminderPolicy.repeat_escalation_hours` (`RepeatEscalation` -> `EscalationRepeated`), counted
from the expiry and then from each repeat, until the limit ends (met, lapsed, re-armed with a
new deadline) or a supervisor of that side acknowledges it.

`AcknowledgeEscalation` records one `EscalationAcknowledged` per limit of the caller's side with
an escalation to supervisors (`escalation_near` or `escalation_passed`) for its current deadline
not yet acknowledged; with none, `NothingToAcknowledge` (409). An acknowledgement covers that
deadline: its repeats stop, and a deadline re-armed later (a new due instant) is escalated
afresh. Like assignment, it is the acting node's own business (`CommandKind.local`): each node
escalates the limits its own officers must meet and never sends these to the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.alarms import ACTING_SIDE, Alarm
from domain.commands import AcknowledgeEscalation, RepeatEscalation
from domain.errors import CaseClosedError, InvalidCommand, NothingToAcknowledge, WrongStatus
from domain.events import EscalationAcknowledged, EscalationRepeated
from domain.state import CaseState, Escalation
from domain.values import EscalationLevel, Side, Status

SUPERVISOR_LEVELS = (EscalationLevel.ESCALATION_NEAR, EscalationLevel.ESCALATION_PASSED)


def acknowledgeable(state: CaseState, side: Side) -> list[str]:
    """The limits of `side` whose current deadline has an escalation to supervisors that no one
    acknowledged yet, while the limit still runs."""
    found = []
    for name in state.open_limits:
        deadline = state.deadlines.get(name)
        if deadline is None or ACTING_SIDE.get(name, Side.REQUESTING) is not side:
            continue
        if state.acknowledged.get(name) == deadline.due:
            continue
        if any(
            e.limit == name and e.due == deadline.due and e.level in SUPERVISOR_LEVELS
            for e in state.escalations
        ):
            found.append(name)
    return found


def decide_escalation(
    command: AcknowledgeEscalation | RepeatEscalation, state: CaseState
) -> list[EscalationAcknowledged | EscalationRepeated]:
    """The events an acknowledgement or a repeat records, or the rule it breaks."""
    if not state.opened:
        raise WrongStatus(f"{command.command}: the case has not been opened")
    if state.status is Status.CLOSED:
        raise CaseClosedError(f"{command.command}: the case is closed")
    if isinstance(command, AcknowledgeEscalation):
        limits = acknowledgeable(state, command.side)
        if not limits:
            raise NothingToAcknowledge(
                f"no escalation of the {command.side.value} side awaits acknowledgement"
            )
        return [
            EscalationAcknowledged(
                at=command.at, side=command.side, limit=name, due=state.deadlines[name].due
            )
            for name in limits
        ]
    due = _repeating(state, command.limit)
    if due is None:
        raise InvalidCommand(f"the escalation of '{command.limit}' is not repeated now")
    done = len(_repeats(state, command.limit, due))
    if command.repeat != done + 1:
        raise InvalidCommand(f"repeat {command.repeat} of '{command.limit}': {done} so far")
    return [EscalationRepeated(at=command.at, limit=command.limit, due=due, repeat=command.repeat)]


def _repeating(state: CaseState, name: str) -> datetime | None:
    """The due instant of `name`'s deadline if its escalation repeats: the limit passed, still
    runs, and its deadline is not acknowledged."""
    deadline = state.deadlines.get(name)
    if deadline is None or name not in state.open_limits or name not in state.overdue:
        return None
    return None if state.acknowledged.get(name) == deadline.due else deadline.due


def _repeats(state: CaseState, name: str, due: datetime) -> list[Escalation]:
    return [e for e in state.escalation_repeats if e.limit == name and e.due == due]


def next_repeat(
    state: CaseState, every: timedelta, *, quiet: frozenset[str] = frozenset()
) -> Alarm | None:
    """The earliest repeat of an escalation still due (none when `every` is zero), counted from
    the limit's expiry or its last repeat; `quiet` limits are the other node's to escalate."""
    if every <= timedelta(0):
        return None
    pending = []
    for name in state.open_limits:
        due = _repeating(state, name)
        if due is None or name in quiet:
            continue
        sent = [
            e.at
            for e in state.escalations
            if e.limit == name and e.due == due and e.level is EscalationLevel.ESCALATION_PASSED
        ]
        repeats = _repeats(state, name, due)
        sent += [e.at for e in repeats]
        if not sent:
            continue
        pending.append(
            Alarm(
                at=max(sent) + every,
                limit=name,
                due=due,
                level=EscalationLevel.ESCALATION_PASSED,
                repeat=len(repeats) + 1,
            )
        )
    return min(pending, key=lambda a: a.at, default=None)


def acknowledged(state: CaseState, event: EscalationAcknowledged) -> dict[str, object]:
    """The state's changes once `event` is recorded (an `evolve` step)."""
    return {"acknowledged": {**state.acknowledged, event.limit: event.due}}


def repeated(state: CaseState, event: EscalationRepeated) -> dict[str, object]:
    """The state's changes once `event` is recorded (an `evolve` step)."""
    level = EscalationLevel.ESCALATION_PASSED
    seen = Escalation(limit=event.limit, level=level, due=event.due, at=event.at)
    return {"escalation_repeats": (*state.escalation_repeats, seen)}
