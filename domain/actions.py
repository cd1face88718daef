"""What a case waits for: the commands each side may take next, by status.

Used by the API ("what the caller may do next") and the dashboard ("the action it waits for").
The decider remains the judge: a listed command can still be refused (e.g. a passed limit).
"""

from __future__ import annotations

from domain.state import CaseState
from domain.values import Side, Status

_BY_STATUS: dict[Status, tuple[tuple[Side, str], ...]] = {
    Status.DRAFT: ((Side.REQUESTING, "submit"), (Side.REQUESTING, "withdraw")),
    Status.SUBMITTED: ((Side.REQUESTED, "confirm_receipt"), (Side.REQUESTING, "withdraw")),
    Status.RECEIVED: (
        (Side.REQUESTED, "record_verification"),
        (Side.REQUESTED, "extend_reply"),
        (Side.REQUESTED, "accept"),
        (Side.REQUESTED, "refuse"),
        (Side.REQUESTING, "withdraw"),
    ),
    Status.ACCEPTED: (
        (Side.REQUESTING, "schedule_transfer"),
        (Side.REQUESTING, "extend_transfer"),
        (Side.REQUESTING, "withdraw"),
    ),
    Status.DEEMED_ACCEPTED: (
        (Side.REQUESTING, "schedule_transfer"),
        (Side.REQUESTING, "extend_transfer"),
        (Side.REQUESTING, "withdraw"),
    ),
    Status.TRANSFER_SCHEDULED: (
        (Side.REQUESTING, "complete_transfer"),
        (Side.REQUESTING, "schedule_transfer"),
        (Side.REQUESTING, "extend_transfer"),
        (Side.REQUESTING, "withdraw"),
    ),
    # closing is what the case waits for; a claim of readmission in error is the exception
    Status.TRANSFERRED: ((Side.REQUESTING, "close"), (Side.REQUESTED, "claim_error")),
    Status.REFUSED: ((Side.REQUESTING, "close"),),
    Status.WITHDRAWN: ((Side.REQUESTING, "close"),),
    Status.LAPSED: ((Side.REQUESTING, "close"),),
    Status.RETURNED_IN_ERROR: ((Side.REQUESTING, "close"),),
    Status.CLOSED: (),
}


def expected_actions(state: CaseState) -> tuple[tuple[Side, str], ...]:
    """(side, command) pairs the case's status allows, minus those its history rules out."""
    actions = _BY_STATUS[state.status]
    skip = set()
    if state.reply_extended:
        skip.add("extend_reply")
    if state.status is Status.TRANSFERRED and "readmission_in_error" not in state.open_limits:
        skip.add("claim_error")
    return tuple(a for a in actions if a[1] not in skip)


def waiting_for(state: CaseState) -> Side | None:
    """The side whose move the case awaits (the first action's side), None when closed."""
    actions = expected_actions(state)
    return actions[0][0] if actions else None
