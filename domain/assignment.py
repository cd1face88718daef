"""Assignment: each side of a case has an assignee, the officer who works on it for their state.

An officer or supervisor claims the case for their side (`ClaimCase`), its assignee releases it
(`ReleaseCase`), a supervisor assigns or reassigns it (`AssignCase`); each change is one
`CaseAssigned` event, its actor in the event's metadata. Assignment is a node's own business:
either side issues these commands for itself (`Side.EITHER`), they never cross to the other
node of a shared case (`CommandKind.local`), and a case never waits for them
(`domain.actions`). Which roles may issue which is the case workflow's check (`may_not_act`);
whether the assigned officer is of the side's state is the API's, against the directory.
"""

from __future__ import annotations

from typing import assert_never

from domain.commands import AssignCase, ClaimCase, ReleaseCase
from domain.errors import (
    AlreadyAssigned,
    AlreadyRecorded,
    CaseClosedError,
    NotAssigned,
    WrongStatus,
)
from domain.events import CaseAssigned
from domain.state import CaseState
from domain.values import Status

AssignmentCommand = ClaimCase | ReleaseCase | AssignCase


def decide_assignment(command: AssignmentCommand, state: CaseState) -> list[CaseAssigned]:
    """The one `CaseAssigned` event a claim, release or assignment records, or the rule it
    breaks: any case but a closed one, a claim of a side nobody holds, a release by the side's
    assignee, an assignment to someone else than the side's assignee."""
    if not state.opened:
        raise WrongStatus(f"{command.command}: the case has not been opened")
    if state.status is Status.CLOSED:
        raise CaseClosedError(f"{command.command}: the case is closed")
    side = command.side
    current = state.assignees.get(side.value)
    match command:
        case ClaimCase():
            if current == command.by:
                raise AlreadyRecorded(f"the {side.value} side of the case is already yours")
            if current is not None:
                raise AlreadyAssigned(f"assigned to {current}: a supervisor reassigns")
            assignee: str | None = command.by
        case ReleaseCase():
            if current is None:
                raise NotAssigned(f"the {side.value} side of the case has no assignee")
            if current != command.by:
                raise NotAssigned(f"assigned to {current}: a supervisor reassigns")
            assignee = None
        case AssignCase():
            if current == command.officer:
                raise AlreadyRecorded(f"already assigned to {current}")
            assignee = command.officer
        case _:
            assert_never(command)
    return [CaseAssigned(at=command.at, side=side, assignee=assignee)]


def assigned(state: CaseState, event: CaseAssigned) -> dict[str, object]:
    """The state's changes once `event` is recorded (an `evolve` step)."""
    assignees = {k: v for k, v in state.assignees.items() if k != event.side.value}
    if event.assignee is not None:
        assignees[event.side.value] = event.assignee
    return {"assignees": assignees}
