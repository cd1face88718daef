"""The deadlines a command starts or moves, computed with the agreement's calendars.

Part of the decision (`domain.decider.decide` records each as a `DeadlineSet` event): receipt
(the delivery of the application on submission; under ruleset 1, the requested state's
confirmation) starts the reply limit, acceptance (or deemed acceptance) the transfer limit, a
completed transfer the window for claiming readmission in error, a claim (ruleset 2) the limit for
answering it and its acceptance the limit for returning the person, an extension moves a running
limit. A limit whose `applies_to` leaves out the case's category is never started (e.g. the
submission window, which binds third-country nationals and stateless persons, never runs for an
own national).
The calendars come with the code (`domain.calendars`, the `holidays` package): a replay computes
the deadlines again with the calendars installed then, and the workflow goes on from those its
commit recorded (`domain.decider.with_recorded_deadlines`), so newer holiday data never moves a
deadline a case already has.
"""

from __future__ import annotations

from datetime import datetime

from domain.agreements import OnExpiry, Trigger
from domain.commands import (
    AcceptApplication,
    AcceptErrorClaim,
    ClaimReadmissionInError,
    Command,
    CompleteTransfer,
    ConfirmReceipt,
    ExpireLimit,
    ExtendReplyLimit,
    ExtendTransferLimit,
    OpenCase,
    ScheduleTransfer,
    SubmitApplication,
)
from domain.deadlines import Deadline, deadline_for
from domain.rules import reply_limit_name, submission_limit_name, trigger_instant
from domain.state import CaseState
from domain.transit import reply_deadline


def started_deadlines(command: Command, state: CaseState) -> tuple[Deadline, ...]:
    """The deadlines `command` starts or moves in `state` (empty for most commands)."""
    terms = command.terms if isinstance(command, OpenCase) else state.terms
    category = command.category if isinstance(command, OpenCase) else state.category
    if terms is None:
        return ()

    def start(
        name: str, trigger: datetime | None, *, extended: bool = False, extra_days: int = 0
    ) -> tuple[Deadline, ...]:
        limit = terms.limits.get(name)
        # a limit that does not bind the case's category never runs for it (`applies_to`)
        if limit is None or not limit.binds(category) or trigger is None:
            return ()
        return (deadline_for(terms, name, trigger, extended=extended, extra_days=extra_days),)

    match command:
        case OpenCase() if command.transit is not None:
            return ()  # a transit case has no submission window; its lead times are checked
        case SubmitApplication() if state.transit is not None:
            # delivered on submission: the receipt (`domain.transit`)
            return (reply_deadline(terms, state.transit, command.at),)
        case OpenCase():
            name = submission_limit_name(command.procedure)
            return start(name, trigger_instant(terms.limits.get(name), command))
        case SubmitApplication() if state.delivery_is_receipt:
            # delivered on submission: the receipt (ruleset 2; see `domain.decider`)
            return start(reply_limit_name(state.procedure, terms), command.at)
        case ConfirmReceipt() if not state.delivery_is_receipt and state.received_at is None:
            return start(reply_limit_name(state.procedure, terms), command.at)
        case ExtendReplyLimit():
            current = state.deadlines.get(reply_limit_name(state.procedure, terms))
            if current is None:
                return ()
            return start(current.limit, current.triggered_at, extended=True)
        case AcceptApplication():
            return start("transfer", command.at)
        case ExpireLimit():
            deadline = state.deadlines.get(command.limit)
            if deadline is not None and deadline.on_expiry is OnExpiry.DEEMED_ACCEPTED:
                # a claim of readmission in error deemed accepted: the person is returned
                follows = "error_return" if command.limit == "error_answer" else "transfer"
                return start(follows, command.at)
            return ()
        case ScheduleTransfer() if state.ruleset >= 2:
            # the schedule is the transfer notice; the other side answers within its limit
            return start("transfer_notice_reply", command.at)
        case CompleteTransfer():
            return start("readmission_in_error", command.at)
        case ClaimReadmissionInError() if state.error_is_a_procedure:
            return start("error_answer", command.at)
        case AcceptErrorClaim():
            return start("error_return", command.at)
        case ExtendTransferLimit():
            current = state.deadlines.get("transfer")
            if current is None:
                return ()
            limit = terms.limits["transfer"]
            if limit.extension is not None and limit.extension.up_to is not None:
                return start("transfer", current.triggered_at, extended=True)
            extra = state.transfer_extension_days + command.days
            return start("transfer", current.triggered_at, extra_days=extra)
        case _:
            return ()


def counted_from(deadline: Deadline, ruleset: int) -> str:
    """What the instant `deadline.triggered_at` is, in a word the API and the pages show: a
    limit counted from receipt runs from the delivery of the application (ruleset 2 on), or,
    for cases opened under ruleset 1, from the requested state's confirmation."""
    if deadline.trigger is Trigger.RECEIPT:
        return "delivery" if ruleset >= 2 else "confirmation_of_receipt"
    if deadline.limit == "error_return" and deadline.trigger is Trigger.ACCEPTANCE:
        return "acceptance_of_the_claim"  # of readmission in error, not of the application
    return deadline.trigger.value
