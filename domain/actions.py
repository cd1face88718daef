"""What a case waits for: the commands each side may take next, by status.

Used by the API ("what the caller may do next") and the dashboard ("the action it waits for").
The decider remains the judge: a listed command can still be refused (e.g. a passed limit).
"""

from __future__ import annotations

from domain.commands import BY_NAME
from domain.decider import AMENDABLE
from domain.state import FINAL_OUTCOMES, CaseState
from domain.values import Side, Status

# The commands each status allows, in the order a case waits for them (the first is its due
# move); who issues each is the catalogue's word (`domain.commands.BY_NAME`).
_BY_STATUS: dict[Status, tuple[str, ...]] = {
    Status.DRAFT: ("submit", "withdraw"),
    Status.SUBMITTED: ("confirm_receipt", "withdraw"),
    Status.RECEIVED: (
        "record_verification",
        "confirm_receipt",
        "extend_reply",
        "accept",
        "refuse",
        "withdraw",
    ),
    Status.ACCEPTED: (
        "schedule_transfer",
        "extend_transfer",
        "withdraw",
    ),
    Status.DEEMED_ACCEPTED: (
        "schedule_transfer",
        "extend_transfer",
        "withdraw",
    ),
    Status.TRANSFER_SCHEDULED: (
        "confirm_transfer",
        "object_to_transfer",
        "complete_transfer",
        "schedule_transfer",
        "extend_transfer",
        "withdraw",
    ),
    Status.TRANSFER_OBJECTED: (
        "schedule_transfer",
        "extend_transfer",
        "withdraw",
    ),
    # closing is what the case waits for; a claim of readmission in error is the exception
    Status.TRANSFERRED: ("close", "claim_error"),
    Status.ERROR_CLAIMED: ("accept_error_claim", "dispute_error_claim"),
    Status.ERROR_ACCEPTED: ("schedule_return",),
    Status.RETURN_SCHEDULED: ("complete_return", "schedule_return"),
    Status.ERROR_DISPUTED: ("close",),
    Status.REFUSED: ("close",),
    Status.WITHDRAWN: ("close",),
    Status.LAPSED: ("close",),
    Status.RETURNED_IN_ERROR: ("close",),
    Status.CLOSED: (),
}
# A transit case (domain.transit): the same table for its own statuses and commands.
_TRANSIT_BY_STATUS: dict[Status, tuple[str, ...]] = {
    Status.DRAFT: ("submit", "withdraw"),
    Status.RECEIVED: ("consent_transit", "refuse_transit", "confirm_receipt", "withdraw"),
    Status.CONSENTED: (
        "schedule_transit",
        "complete_transit",
        "report_transit_failure",
        "confirm_receipt",
        "withdraw",
    ),
    Status.DEEMED_CONSENTED: (
        "schedule_transit",
        "complete_transit",
        "report_transit_failure",
        "confirm_receipt",
        "withdraw",
    ),
    Status.TRANSIT_SCHEDULED: (
        "complete_transit",
        "schedule_transit",
        "report_transit_failure",
        "confirm_receipt",
        "withdraw",
    ),
    # closing is what the case waits for; a destination refusing entry is the exception
    Status.TRANSITED: ("close", "report_transit_failure"),
    Status.TRANSIT_FAILED: ("take_back",),
    Status.TAKEN_BACK: ("close",),
    Status.REFUSED: ("close",),
    Status.WITHDRAWN: ("close",),
    Status.CLOSED: (),
}


def expected_actions(state: CaseState) -> tuple[tuple[Side, str], ...]:
    """(side, command) pairs the case's status allows, minus those its history rules out."""
    table = _TRANSIT_BY_STATUS if state.is_transit else _BY_STATUS
    names = table.get(state.status, ())
    if not state.is_transit and state.status in AMENDABLE:
        names += ("amend_person",)  # a correction, never the move a case waits for: listed last
    skip = set()
    if state.acknowledged_at is not None or (state.received_at and not state.delivery_is_receipt):
        skip.add("confirm_receipt")  # acknowledged; or, under ruleset 1, confirmed
    if "transfer_notice_reply" not in state.open_limits:
        skip |= {"confirm_transfer", "object_to_transfer"}  # no notice awaits an answer
    if state.reply_extended:
        skip.add("extend_reply")
    if state.status is Status.TRANSFERRED and "readmission_in_error" not in state.open_limits:
        skip.add("claim_error")
    return tuple((BY_NAME[name].side, name) for name in names if name not in skip)


def closes_by_itself(state: CaseState) -> bool:
    """Whether nothing more can happen to the case but its closing: its outcome is final (or it
    was transferred) and every limit it still had has ended (met, lapsed or passed). The case
    workflow then closes it (ruleset 2 on), which starts its retention period."""
    final = state.status in FINAL_OUTCOMES or state.status is Status.TRANSFERRED
    return final and all(name in state.overdue for name in state.open_limits)


def waiting_for(state: CaseState) -> Side | None:
    """The side whose move the case awaits (the first action's side), None when closed."""
    actions = expected_actions(state)
    return actions[0][0] if actions else None
