"""The case decider: `decide(command, state) -> events`, `evolve(state, event) -> state`.

`decide` enforces the agreement's rules and refuses with a `DomainError` naming the rule broken;
the deadlines a command starts are computed as part of it (`domain.deadline_starts`). `evolve`
only applies events and never validates. State at any point is `fold(events[:k])`: the
workflow, the projections and the auditor's replay share this code.

`execute` is what the case workflow calls, once per command: the decision, the state after it
and the notices it causes, in one `Decision`. `validate` is its checking half, for the update
validator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import assert_never
from uuid import UUID

from domain import reply_approval, transit
from domain.agreements import NOTICE_REPLY, AgreementTerms, Category, OnExpiry
from domain.assignment import assigned, decide_assignment
from domain.attachments import attached, decide_attachment
from domain.commands import (
    AcceptApplication,
    AcceptErrorClaim,
    AcknowledgeEscalation,
    AddAttachment,
    AddEvidence,
    AmendPerson,
    ApproveReply,
    AssignCase,
    ClaimCase,
    ClaimReadmissionInError,
    CloseCase,
    Command,
    CompleteReturn,
    CompleteTransfer,
    CompleteTransit,
    ConfirmReceipt,
    ConfirmTransfer,
    ConsentTransit,
    DisputeErrorClaim,
    DraftReply,
    ExpireLimit,
    ExtendReplyLimit,
    ExtendTransferLimit,
    ObjectToTransfer,
    OpenCase,
    RecordEscalation,
    RecordVerification,
    RefuseApplication,
    RefuseTransit,
    ReleaseCase,
    RepeatEscalation,
    ReportTransitFailure,
    ReturnReply,
    ScheduleReturn,
    ScheduleTransfer,
    ScheduleTransit,
    SendCaseMessage,
    SubmitApplication,
    TakeBack,
    WithdrawCase,
)
from domain.deadline_starts import started_deadlines
from domain.deadlines import Deadline
from domain.errors import (
    AlreadyRecorded,
    DeadlineNotComputed,
    ErrorAnswerPassed,
    ErrorClaimWindowClosed,
    ExtensionNotAllowed,
    InvalidCommand,
    LimitNotExpired,
    ReplyDeadlinePassed,
    TransitRequestInvalid,
)
from domain.escalations import acknowledged, decide_escalation, repeated
from domain.events import (
    ApplicationAccepted,
    ApplicationDelivered,
    ApplicationRefused,
    ApplicationSubmitted,
    AttachmentAdded,
    CaseAssigned,
    CaseClosed,
    CaseMessageSent,
    CaseOpened,
    CaseWithdrawn,
    DeadlineEscalated,
    DeadlineSet,
    DeemedAccepted,
    ErrorClaimAccepted,
    ErrorClaimDeemedAccepted,
    ErrorClaimDisputed,
    ErrorClaimed,
    EscalationAcknowledged,
    EscalationRepeated,
    Event,
    EvidenceAdded,
    LimitLapsed,
    PersonAmended,
    PersonTakenBack,
    ReadmissionInErrorClaimed,
    ReceiptAcknowledged,
    ReceiptConfirmed,
    ReplyDrafted,
    ReplyLimitExtended,
    ReplyReturned,
    ReturnCompleted,
    ReturnScheduled,
    TransferCompleted,
    TransferConfirmed,
    TransferLimitExtended,
    TransferObjected,
    TransferScheduled,
    TransitCompleted,
    TransitConsented,
    TransitDeemedConsented,
    TransitFailed,
    TransitRefused,
    TransitScheduled,
    VerificationRecorded,
)
from domain.messages import decide_message, message_recorded
from domain.notices import Notice, notices_for
from domain.rules import (
    check_accelerated,
    check_can_submit,
    check_notice_lead,
    check_open_preconditions,
    check_return_plan,
    check_status,
    check_transfer_confirmed,
    check_transfer_plan,
    grade_all,
    open_deadline,
    reply_limit_name,
    require_reasons,
)
from domain.state import CaseState, Escalation, initial_state
from domain.transit_request import TransitRequest
from domain.values import CaseKind, EscalationLevel, Procedure, Status, TransferPlan

ACTIVE = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.RECEIVED,
    Status.ACCEPTED,
    Status.DEEMED_ACCEPTED,
    Status.TRANSFER_SCHEDULED,
    Status.TRANSFER_OBJECTED,
)
# where the requesting state may correct the person's data: from the draft until the transfer
AMENDABLE = ACTIVE
CLOSABLE = (
    Status.REFUSED,
    Status.WITHDRAWN,
    Status.LAPSED,
    Status.RETURNED_IN_ERROR,
    Status.ERROR_DISPUTED,
    Status.TRANSFERRED,
)
# readmission in error between the claim and the return (ruleset 2)
IN_ERROR_PROCEDURE = (Status.ERROR_CLAIMED, Status.ERROR_ACCEPTED, Status.RETURN_SCHEDULED)
RETURNABLE = (Status.ERROR_ACCEPTED, Status.RETURN_SCHEDULED)
TRANSFERABLE = (
    Status.ACCEPTED,
    Status.DEEMED_ACCEPTED,
    Status.TRANSFER_SCHEDULED,
    Status.TRANSFER_OBJECTED,
)
# where the requested state may still acknowledge a delivered application
ACKNOWLEDGEABLE = (Status.RECEIVED, *TRANSFERABLE)


# --- decide ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """What one command does to a case: its events with the ids the caller gave them, the state
    after them, and the notices they call for."""

    event_ids: tuple[UUID, ...]
    events: tuple[Event, ...]
    state: CaseState
    notices: tuple[Notice, ...]


def execute(
    command: Command, state: CaseState, new_id: Callable[[], UUID], *, admitted: bool = False
) -> Decision:
    """Decide `command` in `state` (a `DomainError` if it breaks a rule), then everything that
    follows from its events: the state after them and their notices. `new_id` names each event
    (`workflow.uuid4` in the case workflow), so this stays free of randomness.

    `admitted`: `validate` has already judged the rules that count working days with the
    installed calendars (the lead times of a transfer notice or a transit request), as the case
    workflow's update validator does before anything is recorded. They are not judged again
    here: a replay under newer holiday data would refuse what was done, as it would move a
    recorded deadline (see `with_recorded_deadlines`)."""
    events = decide(command, state, admitted=admitted)
    return _decision(tuple(new_id() for _ in events), tuple(events), state)


def with_recorded_deadlines(
    decision: Decision, recorded: Sequence[Deadline], before: CaseState
) -> Decision:
    """`decision` (taken in `before`) with each deadline as it was recorded. A replay decides
    again with the calendars installed then: newer holiday data would move a deadline the case
    has had since it was set, so the workflow goes on from the recorded ones (a commit's result,
    which history keeps)."""
    by_limit = {d.limit: d for d in recorded}
    events = tuple(
        e.model_copy(update={"deadline": by_limit[e.deadline.limit]})
        if isinstance(e, DeadlineSet) and by_limit.get(e.deadline.limit, e.deadline) != e.deadline
        else e
        for e in decision.events
    )
    if events == decision.events:
        return decision
    return _decision(decision.event_ids, events, before)


def _decision(ids: tuple[UUID, ...], events: tuple[Event, ...], before: CaseState) -> Decision:
    after = fold(events, before)
    assert after.case_id is not None  # opened, by this command or before (others are refused)
    notices = notices_for(after.case_id, zip(ids, events, strict=True), after)
    return Decision(event_ids=ids, events=events, state=after, notices=tuple(notices))


def validate(command: Command, state: CaseState) -> None:
    """Raise the `DomainError` that `decide` would raise: its rules, without its deadlines (the
    update validator's check, before anything reaches history)."""
    _decide(command, state)


def decide(command: Command, state: CaseState, *, admitted: bool = False) -> list[Event]:
    """The events `command` produces in `state`, or a `DomainError` naming the rule broken;
    the deadlines it starts or moves are computed here and recorded as `DeadlineSet` events
    (`admitted`: see `execute`)."""
    command = reply_approval.as_sent(command, state)  # an approval is the drafted reply
    events = _decide(command, state, admitted=admitted)
    started = started_deadlines(command, state)
    return [*events, *(DeadlineSet(at=command.at, deadline=d) for d in started)]


def _decide(command: Command, state: CaseState, *, admitted: bool = False) -> list[Event]:
    at = command.at
    if isinstance(command, ClaimCase | ReleaseCase | AssignCase):
        # who works on the case, not what happens to it: any case but a closed one
        _check_order(command, state)
        return list(decide_assignment(command, state))
    if isinstance(command, AddAttachment):
        # a file added to the case, not a move of it: any opened case but a closed one
        _check_order(command, state)
        return list(decide_attachment(command, state))
    if isinstance(command, SendCaseMessage):
        # a message between the two states, not a move of the case: until it is closed
        _check_order(command, state)
        return list(decide_message(command, state))
    if isinstance(command, AcknowledgeEscalation | RepeatEscalation):
        # who is told of a late act, not what happens to the case (domain.escalations)
        _check_order(command, state)
        return list(decide_escalation(command, state))
    if not isinstance(command, OpenCase):
        check_status(command, state, tuple(Status))
        _check_order(command, state)
    transit.check_kind(command, command.kind if isinstance(command, OpenCase) else state.kind)
    match command:
        case OpenCase() if command.kind is CaseKind.TRANSIT:
            return [_opened_event(command, transit.check_opening(command, state))]
        case OpenCase():
            if command.transit is not None:
                raise TransitRequestInvalid("a readmission case carries no transit request")
            check_open_preconditions(command, state)
            if command.procedure is Procedure.ACCELERATED:
                check_accelerated(command)
            return [_opened_event(command)]
        case AddEvidence():
            check_status(command, state, (Status.DRAFT, Status.SUBMITTED, Status.RECEIVED))
            terms, category = _opened(state)
            return [EvidenceAdded(at=at, items=grade_all(terms, category, command.items))]
        case SubmitApplication() if state.is_transit:
            check_status(command, state, (Status.DRAFT,))
            transit.check_submission(state, at, lead_times=not admitted)
            # delivered at once, as a readmission application from ruleset 2 on
            requested = _opened(state)[0].requested
            return [ApplicationSubmitted(at=at), ApplicationDelivered(at=at, to=requested)]
        case SubmitApplication():
            check_status(command, state, (Status.DRAFT,))
            check_can_submit(state, at)
            if not state.delivery_is_receipt:
                return [ApplicationSubmitted(at=at)]
            # one installation holds both sides: submitting delivers to the requested state's
            # side and inbox at once, and that instant is the receipt the reply limit runs from
            requested = _opened(state)[0].requested
            return [ApplicationSubmitted(at=at), ApplicationDelivered(at=at, to=requested)]
        case ConfirmReceipt():
            if state.status is Status.SUBMITTED and state.received_at is None:
                return [ReceiptConfirmed(at=at)]  # ruleset 1: not delivered, so this is receipt
            if not state.delivery_is_receipt and state.received_at is not None:
                # ruleset 1: confirmed once (a state carried over from v0.2 may lack the time)
                raise AlreadyRecorded(f"receipt was confirmed at {state.received_at.isoformat()}")
            check_status(
                command, state, transit.ACKNOWLEDGEABLE if state.is_transit else ACKNOWLEDGEABLE
            )
            if state.acknowledged_at is not None:
                raise AlreadyRecorded(
                    f"receipt was already acknowledged at {state.acknowledged_at.isoformat()}"
                )
            return [ReceiptAcknowledged(at=at)]
        case RecordVerification():
            check_status(command, state, (Status.RECEIVED,))
            return [VerificationRecorded(at=at, outcome=command.outcome)]
        case ExtendReplyLimit():
            check_status(command, state, (Status.RECEIVED,))
            require_reasons(command.reasons, "an extension of the reply limit")
            reply = _running_reply(state, at)
            if reply is None:
                raise ExtensionNotAllowed(
                    f"no reply limit runs for {_category_words(state)}: there is none to extend"
                )
            if state.reply_extended:
                raise ExtensionNotAllowed("the reply limit has already been extended once")
            limit = _opened(state)[0].limits[reply.limit]
            if limit.extension is None or limit.extension.up_to is None:
                raise ExtensionNotAllowed(f"the agreement allows no extension of '{reply.limit}'")
            return [ReplyLimitExtended(at=at, limit=reply.limit, reasons=command.reasons)]
        case AcceptApplication():
            check_status(command, state, (Status.RECEIVED,))
            _running_reply(state, at)
            return [ApplicationAccepted(at=at, note=command.note)]
        case RefuseApplication():
            check_status(command, state, (Status.RECEIVED,))
            require_reasons(command.reasons, "a refusal")
            _running_reply(state, at)
            return [ApplicationRefused(at=at, reasons=command.reasons)]
        case DraftReply():
            # drafted like the reply itself: while it may still be given
            check_status(command, state, (Status.RECEIVED,))
            if state.is_transit:  # a transit case's reply: its consent or refusal
                transit.running_reply(state, at)
            else:
                _running_reply(state, at)
            return [reply_approval.drafted(command, state)]
        case ReturnReply():
            return [reply_approval.returned(command, state)]
        case ApproveReply():
            approved = reply_approval.approved_reply(command, state)
            return _decide(approved, state, admitted=admitted)
        case ExpireLimit():
            return _expire(command, state)
        case RecordEscalation():
            deadline = open_deadline(state, command.limit)
            seen = Escalation(limit=command.limit, level=command.level, due=deadline.due, at=at)
            if any(e.same_as(seen) for e in state.escalations):
                raise InvalidCommand(
                    f"'{command.level.value}' was already recorded for '{command.limit}'"
                )
            return [
                DeadlineEscalated(at=at, limit=command.limit, level=command.level, due=deadline.due)
            ]
        case ScheduleTransfer():
            check_status(command, state, TRANSFERABLE)
            plan = TransferPlan(
                on=command.on, bcp=command.bcp, mode=command.mode, escorts=command.escorts
            )
            check_transfer_plan(state, plan, at)
            if state.ruleset >= 2 and not admitted:
                check_notice_lead(state, plan, at)
            return [TransferScheduled(at=at, plan=plan)]
        case ConfirmTransfer():
            check_status(command, state, (Status.TRANSFER_SCHEDULED,))
            open_deadline(state, NOTICE_REPLY)
            return [TransferConfirmed(at=at, note=command.note)]
        case ObjectToTransfer():
            check_status(command, state, (Status.TRANSFER_SCHEDULED,))
            require_reasons(command.reasons, "an objection to a notified transfer")
            open_deadline(state, NOTICE_REPLY)
            return [TransferObjected(at=at, reasons=command.reasons)]
        case CompleteTransfer():
            check_status(command, state, (Status.TRANSFER_SCHEDULED,))
            check_transfer_plan(state, None, at)
            check_transfer_confirmed(state)
            return [TransferCompleted(at=at)]
        case ExtendTransferLimit():
            check_status(command, state, TRANSFERABLE)
            require_reasons(command.reasons, "an extension of the transfer limit")
            _check_transfer_extension(state, command.days)
            return [TransferLimitExtended(at=at, days=command.days, reasons=command.reasons)]
        case ClaimReadmissionInError():
            check_status(command, state, (Status.TRANSFERRED,))
            require_reasons(command.reasons, "a claim of readmission in error")
            window = open_deadline(state, "readmission_in_error", ErrorClaimWindowClosed)
            if window.has_passed(at):
                raise ErrorClaimWindowClosed(f"the window closed {window.due.isoformat()}")
            if not state.error_is_a_procedure:
                return [ReadmissionInErrorClaimed(at=at, reasons=command.reasons)]  # ruleset 1
            return [ErrorClaimed(at=at, reasons=command.reasons)]
        case AcceptErrorClaim():
            check_status(command, state, (Status.ERROR_CLAIMED,))
            _check_error_answer(state, at)
            return [ErrorClaimAccepted(at=at, note=command.note)]
        case DisputeErrorClaim():
            check_status(command, state, (Status.ERROR_CLAIMED,))
            require_reasons(command.reasons, "a dispute of an error claim")
            _check_error_answer(state, at)
            return [ErrorClaimDisputed(at=at, reasons=command.reasons)]
        case ScheduleReturn():
            check_status(command, state, RETURNABLE)
            plan = TransferPlan(
                on=command.on, bcp=command.bcp, mode=command.mode, escorts=command.escorts
            )
            check_return_plan(state, plan, at)
            return [ReturnScheduled(at=at, plan=plan)]
        case CompleteReturn():
            check_status(command, state, (Status.RETURN_SCHEDULED,))
            return [ReturnCompleted(at=at)]
        case AmendPerson():
            check_status(command, state, AMENDABLE)
            return [PersonAmended(at=at, person=command.person)]
        case WithdrawCase():
            check_status(command, state, transit.ACTIVE if state.is_transit else ACTIVE)
            require_reasons(command.reasons, "a withdrawal")
            return [CaseWithdrawn(at=at, reasons=command.reasons)]
        case CloseCase():
            check_status(command, state, transit.CLOSABLE if state.is_transit else CLOSABLE)
            return [CaseClosed(at=at, outcome=state.status.value)]
        case (
            ConsentTransit()
            | RefuseTransit()
            | ScheduleTransit()
            | CompleteTransit()
            | ReportTransitFailure()
            | TakeBack()
        ):
            return transit.decide_transit(command, state)
        case _:
            assert_never(command)


def _check_order(command: Command, state: CaseState) -> None:
    """Refuse a command issued before the case's last event: a case's history runs forward."""
    if state.updated_at is not None and command.at < state.updated_at:
        raise InvalidCommand(
            f"{command.command} at {command.at.isoformat()} lies before the case's last event "
            f"({state.updated_at.isoformat()})"
        )


def _opened_event(command: OpenCase, request: TransitRequest | None = None) -> CaseOpened:
    return CaseOpened(
        at=command.at,
        case_id=command.case_id,
        terms=command.terms,
        category=command.category,
        procedure=command.procedure,
        person=command.person,
        evidence=grade_all(command.terms, command.category, command.evidence),
        knowledge_at=command.knowledge_at,
        apprehended_at=command.apprehended_at,
        apprehension_place=command.apprehension_place,
        ruleset=command.ruleset,
        kind=command.kind,
        transit=request,
    )


def _opened(state: CaseState) -> tuple[AgreementTerms, Category]:
    assert state.terms is not None and state.category is not None  # check_status guarantees it
    return state.terms, state.category


def _category_words(state: CaseState) -> str:
    return state.category.value.replace("_", " ") if state.category else "this case"


def _running_reply(state: CaseState, at: datetime) -> Deadline | None:
    """The running reply deadline; None if the terms' reply limit does not bind the case's
    category (`applies_to`), so that the reply has no time limit."""
    name = reply_limit_name(state.procedure, state.terms)
    deadline = state.deadlines.get(name)
    if deadline is not None and deadline.has_passed(at):
        raise ReplyDeadlinePassed(
            f"the {name} limit ended {deadline.due.isoformat()}; its consequence "
            f"('{deadline.on_expiry.value}') applies"
        )
    if deadline is None:
        limit = _opened(state)[0].limits.get(name)
        if limit is not None and not limit.binds(state.category):
            return None
        raise DeadlineNotComputed(f"no '{name}' deadline was set at receipt")
    return deadline


def _check_error_answer(state: CaseState, at: datetime) -> None:
    """An answer to an error claim after its limit, whose consequence is deemed acceptance, comes
    too late (that consequence applies); with another consequence (an escalation) it is still
    awaited."""
    deadline = state.deadlines.get("error_answer")
    if (
        deadline is not None
        and deadline.has_passed(at)
        and deadline.on_expiry is OnExpiry.DEEMED_ACCEPTED
    ):
        raise ErrorAnswerPassed(
            f"the error_answer limit ended {deadline.due.isoformat()}; the claim is deemed accepted"
        )


def _check_transfer_extension(state: CaseState, days: int) -> None:
    limit = _opened(state)[0].limits.get("transfer")
    if limit is None or limit.extension is None:
        raise ExtensionNotAllowed("the agreement allows no extension of the transfer limit")
    if not limit.binds(state.category):
        raise ExtensionNotAllowed(
            f"no transfer limit runs for {_category_words(state)}: there is none to extend"
        )
    ext = limit.extension
    if ext.up_to is not None and state.transfer_extension_days:
        raise ExtensionNotAllowed("the transfer limit has already been extended")
    if ext.max_days is not None and state.transfer_extension_days + days > ext.max_days:
        raise ExtensionNotAllowed(
            f"extensions of the transfer limit are capped at {ext.max_days} days in all "
            f"({state.transfer_extension_days} used)"
        )


def _expire(command: ExpireLimit, state: CaseState) -> list[Event]:
    deadline = open_deadline(state, command.limit)
    if not deadline.has_passed(command.at):
        raise LimitNotExpired(
            f"'{command.limit}' runs until {deadline.due.isoformat()}; it has not passed at "
            f"{command.at.isoformat()}"
        )
    if command.limit in state.overdue:
        raise LimitNotExpired(f"'{command.limit}' has already expired and been escalated")
    passed = DeadlineEscalated(
        at=command.at,
        limit=command.limit,
        level=EscalationLevel.ESCALATION_PASSED,
        due=deadline.due,
    )
    match deadline.on_expiry:
        case OnExpiry.DEEMED_ACCEPTED if command.limit == "error_answer":
            check_status(command, state, (Status.ERROR_CLAIMED,))
            return [passed, ErrorClaimDeemedAccepted(at=command.at, limit=command.limit)]
        case OnExpiry.DEEMED_ACCEPTED:
            check_status(command, state, (Status.RECEIVED,))
            return [passed, DeemedAccepted(at=command.at, limit=command.limit)]
        case OnExpiry.DEEMED_CONFIRMED:
            check_status(command, state, (Status.TRANSFER_SCHEDULED,))
            return [passed, TransferConfirmed(at=command.at, deemed=True)]
        case OnExpiry.LAPSED:
            return [passed, LimitLapsed(at=command.at, limit=command.limit)]
        case OnExpiry.DEEMED_CONSENTED:
            # only a transit's reply deadline carries it (`domain.transit.reply_deadline`)
            check_status(command, state, (Status.RECEIVED,))
            return [passed, TransitDeemedConsented(at=command.at, limit=command.limit)]
        case OnExpiry.ESCALATE:
            return [passed]
        case _:
            assert_never(deadline.on_expiry)


# --- evolve ---------------------------------------------------------------------------------


def _close_limits(state: CaseState, *names: str) -> tuple[str, ...]:
    return tuple(n for n in state.open_limits if n not in names)


def evolve(state: CaseState, event: Event) -> CaseState:
    """Apply one event; never validates (the decision was made when it was recorded)."""
    changes: dict[str, object] = {"version": state.version + 1, "updated_at": event.at}
    match event:
        case CaseOpened():
            changes |= {
                "case_id": event.case_id,
                "status": Status.DRAFT,
                "terms": event.terms,
                "category": event.category,
                "procedure": event.procedure,
                "person": event.person,
                "evidence": event.evidence,
                "knowledge_at": event.knowledge_at,
                "apprehended_at": event.apprehended_at,
                "apprehension_place": event.apprehension_place,
                "opened_at": event.at,
                "ruleset": event.ruleset,
                "kind": event.kind,
                "transit": event.transit,
            }
        case EvidenceAdded():
            changes["evidence"] = state.evidence + event.items
        case ApplicationSubmitted():
            changes |= {
                "status": Status.SUBMITTED,
                "submitted_at": event.at,
                "open_limits": _close_limits(state, "submission", "accelerated_submission"),
            }
        case DeadlineSet():
            name = event.deadline.limit
            changes |= {
                "deadlines": {**state.deadlines, name: event.deadline},
                "open_limits": (*_close_limits(state, name), name),
                "overdue": tuple(n for n in state.overdue if n != name),
            }
        case ApplicationDelivered():
            changes |= {"status": Status.RECEIVED, "received_at": event.at}
        case ReceiptConfirmed():
            changes |= {
                "status": Status.RECEIVED,
                "received_at": event.at,
                "acknowledged_at": event.at,
            }
        case ReceiptAcknowledged():
            changes["acknowledged_at"] = event.at
        case VerificationRecorded():
            changes["verification"] = event.outcome
        case ReplyLimitExtended():
            changes["reply_extended"] = True
        case ApplicationAccepted():
            changes |= _replied(state, event.at, Status.ACCEPTED)
        case ApplicationRefused():
            changes |= _replied(state, event.at, Status.REFUSED)
            changes["refusal_reasons"] = event.reasons
        case DeemedAccepted():
            changes |= _replied(state, event.at, Status.DEEMED_ACCEPTED)
        case DeadlineEscalated():
            changes["escalations"] = (
                *state.escalations,
                Escalation(limit=event.limit, level=event.level, due=event.due, at=event.at),
            )
            if event.level is EscalationLevel.ESCALATION_PASSED:
                changes["overdue"] = (*(n for n in state.overdue if n != event.limit), event.limit)
        case LimitLapsed():
            changes |= state.limits_ended(event.limit)
            if event.limit in ("submission", "accelerated_submission"):
                changes["status"] = Status.LAPSED
        case TransferScheduled():
            changes |= {
                "status": Status.TRANSFER_SCHEDULED,
                "transfer": event.plan,
                "transfer_confirmed_at": None,
                "transfer_deemed_confirmed": False,
                "transfer_objection": (),
            }
        case TransferConfirmed():
            changes |= {
                "transfer_confirmed_at": event.at,
                "transfer_deemed_confirmed": event.deemed,
                **state.limits_ended(NOTICE_REPLY),
            }
        case TransferObjected():
            changes |= {
                "status": Status.TRANSFER_OBJECTED,
                "transfer_objection": event.reasons,
                **state.limits_ended(NOTICE_REPLY),
            }
        case TransferCompleted():
            changes |= {
                "status": Status.TRANSFERRED,
                "transferred_at": event.at,
                **state.limits_ended("transfer", NOTICE_REPLY),
            }
        case TransferLimitExtended():
            changes["transfer_extension_days"] = state.transfer_extension_days + event.days
        case ReadmissionInErrorClaimed():
            changes |= {
                "status": Status.RETURNED_IN_ERROR,
                "error_claim_reasons": event.reasons,
                "open_limits": _close_limits(state, "readmission_in_error"),
            }
        case ErrorClaimed():
            changes |= {
                "status": Status.ERROR_CLAIMED,
                "error_claim_reasons": event.reasons,
                "error_claimed_at": event.at,
                **state.limits_ended("readmission_in_error"),
            }
        case ErrorClaimAccepted() | ErrorClaimDeemedAccepted():
            changes |= {
                "status": Status.ERROR_ACCEPTED,
                "error_answered_at": event.at,
                **state.limits_ended("error_answer"),
            }
        case ErrorClaimDisputed():
            changes |= {
                "status": Status.ERROR_DISPUTED,
                "error_answered_at": event.at,
                "error_dispute_reasons": event.reasons,
                **state.limits_ended("error_answer"),
            }
        case ReturnScheduled():
            changes |= {"status": Status.RETURN_SCHEDULED, "return_plan": event.plan}
        case ReturnCompleted():
            changes |= {
                "status": Status.RETURNED_IN_ERROR,
                "returned_at": event.at,
                **state.limits_ended("error_return"),
            }
        case PersonAmended():
            changes |= {
                "person": event.person,
                "person_amended_at": (*state.person_amended_at, event.at),
            }
        case CaseWithdrawn():
            changes |= {
                "status": Status.WITHDRAWN,
                "withdrawal_reasons": event.reasons,
                "open_limits": (),
            }
        case CaseClosed():
            changes |= {"status": Status.CLOSED, "closed_at": event.at, "open_limits": ()}
        case CaseAssigned():
            # who works on the case, not what happened to it: `updated_at` stays the case's
            # last move, so a node's own assignment never makes a command of the shared case
            # (a reply counted at its signed sending instant) lie "before the last event"
            changes |= {"updated_at": state.updated_at, **assigned(state, event)}
        case ReplyDrafted():
            changes |= reply_approval.draft_changes(state, event)
        case ReplyReturned():
            changes |= reply_approval.return_changes(state, event)
        case AttachmentAdded():
            # like an assignment, a node's own record: the case's last move stays as it was
            changes |= {"updated_at": state.updated_at, **attached(state, event)}
        case CaseMessageSent():
            changes |= message_recorded(state, event)
        case EscalationAcknowledged():
            # a node's own record, like an assignment: `updated_at` stays the case's last move
            changes |= {"updated_at": state.updated_at, **acknowledged(state, event)}
        case EscalationRepeated():
            changes |= {"updated_at": state.updated_at, **repeated(state, event)}
        case (
            TransitConsented()
            | TransitRefused()
            | TransitDeemedConsented()
            | TransitScheduled()
            | TransitCompleted()
            | TransitFailed()
            | PersonTakenBack()
        ):
            changes |= transit.transit_changes(state, event)
        case _:
            assert_never(event)
    if changes.get("status", Status.RECEIVED) is not Status.RECEIVED:
        changes["reply_draft"] = None  # replied, or the reply limit's consequence applied
    evolved = state.model_copy(update=changes)
    if evolved.reply_draft is not None and _reply_ended(evolved, event.at):
        # the reply limit has ended and still runs (it escalates): the draft can no longer be
        # approved, so it awaits nobody (a new reply is refused as the draft's would be)
        return evolved.model_copy(update={"reply_draft": None})
    return evolved


def _reply_ended(state: CaseState, at: datetime) -> bool:
    """Whether a readmission case's reply limit has ended at `at` (a reply is refused then)."""
    if state.is_transit or state.terms is None:
        return False
    deadline = state.deadlines.get(reply_limit_name(state.procedure, state.terms))
    return deadline is not None and deadline.has_passed(at)


def _replied(state: CaseState, at: datetime, status: Status) -> dict[str, object]:
    return {
        "status": status,
        "replied_at": at,
        **state.limits_ended("reply", "accelerated_reply"),
    }


def fold(events: Iterable[Event], state: CaseState | None = None) -> CaseState:
    """The state after applying `events` in order, from `state` or the initial state."""
    current = state if state is not None else initial_state()
    for event in events:
        current = evolve(current, event)
    return current
