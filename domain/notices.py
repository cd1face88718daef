"""Who must hear about what happened: the notices a case's new events call for.

A notice names a state and a role, not a person (the directory resolves those) and carries no
personal data: e-mails and webhooks leave the system. Its key makes sending idempotent: for a
reminder or escalation it is (case, limit, level, due), so a retry never sends twice while a
deadline re-armed by an extension gets its reminders again.

Assignee first (issue 17): a notice for the officers of a side that has an assignee names them
(`assignee`), and the outbox addresses it to that officer alone; while the side is unassigned
it goes to the whole team (every officer of the state), as before. Escalations and the other
notices for supervisors keep going to the state's supervisors, assigned or not: they are the
supervisor's to act on (and to acknowledge, `domain.escalations`), not the assignee's.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from pydantic import AwareDatetime

from domain.agreements import Frozen
from domain.alarms import ACTING_SIDE
from domain.events import (
    ApplicationAccepted,
    ApplicationRefused,
    ApplicationSubmitted,
    CaseMessageSent,
    CaseWithdrawn,
    DeadlineEscalated,
    DeemedAccepted,
    ErrorClaimAccepted,
    ErrorClaimDeemedAccepted,
    ErrorClaimDisputed,
    ErrorClaimed,
    EscalationRepeated,
    Event,
    PersonAmended,
    PersonTakenBack,
    ReadmissionInErrorClaimed,
    ReceiptAcknowledged,
    ReceiptConfirmed,
    ReplyDrafted,
    ReplyReturned,
    ReturnCompleted,
    ReturnScheduled,
    TransferCompleted,
    TransferConfirmed,
    TransferObjected,
    TransferScheduled,
    TransitCompleted,
    TransitConsented,
    TransitDeemedConsented,
    TransitFailed,
    TransitRefused,
    TransitScheduled,
)
from domain.message_values import MessageKind
from domain.state import CaseState
from domain.values import EscalationLevel, Side


class Notice(Frozen):
    key: str
    case_id: str
    state: str
    role: str
    kind: str
    subject: str
    event_id: UUID
    limit: str | None = None
    level: EscalationLevel | None = None
    due: AwareDatetime | None = None
    # the side's assignee (a user id) when the notice is for its officers: they alone get it
    assignee: str | None = None


def _assignee(state: CaseState, side: Side, role: str) -> str | None:
    """Who a notice for `role` of `side` goes to first: the side's assignee, for the officers'
    notices; None (the whole team, or the supervisors) otherwise."""
    return state.assignees.get(side.value) if role == "officer" else None


def _party(state: CaseState, side: Side) -> str:
    assert state.terms is not None
    return state.terms.requesting if side is Side.REQUESTING else state.terms.requested


def _event_notice(event: Event) -> tuple[Side, str, str] | None:
    """(side to tell, role, subject) for events the other side must learn of."""
    match event:
        case ApplicationSubmitted():
            return Side.REQUESTED, "officer", "New readmission application"
        case ReceiptConfirmed():
            return Side.REQUESTING, "officer", "Receipt of the application confirmed"
        case ReceiptAcknowledged():
            return Side.REQUESTING, "officer", "Receipt of the application acknowledged"
        case ApplicationAccepted():
            return Side.REQUESTING, "officer", "Application accepted"
        case ApplicationRefused():
            return Side.REQUESTING, "officer", "Application refused"
        case DeemedAccepted():
            return Side.REQUESTING, "officer", "Application deemed accepted (no reply in time)"
        case TransferScheduled():
            return Side.REQUESTED, "officer", "Transfer scheduled"
        case TransferConfirmed(deemed=True):
            return Side.REQUESTING, "officer", "Transfer deemed confirmed (no answer in time)"
        case TransferConfirmed():
            return Side.REQUESTING, "officer", "Transfer confirmed"
        case TransferObjected():
            return Side.REQUESTING, "officer", "Transfer objected to: schedule it anew"
        case TransferCompleted():
            return Side.REQUESTED, "officer", "Transfer completed"
        case ReadmissionInErrorClaimed():
            return Side.REQUESTING, "supervisor", "Readmission in error claimed"
        case ErrorClaimed():
            return Side.REQUESTING, "officer", "Readmission in error claimed: answer the claim"
        case ErrorClaimAccepted():
            return Side.REQUESTED, "officer", "Claim of readmission in error accepted"
        case ErrorClaimDeemedAccepted():
            return Side.REQUESTED, "officer", "Claim of readmission in error deemed accepted"
        case ErrorClaimDisputed():
            return Side.REQUESTED, "supervisor", "Claim of readmission in error disputed"
        case ReturnScheduled():
            return Side.REQUESTING, "officer", "Return of the person scheduled"
        case ReturnCompleted():
            return Side.REQUESTING, "officer", "Person returned"
        case PersonAmended():
            return Side.REQUESTED, "officer", "The person's data was corrected"
        case CaseWithdrawn():
            return Side.REQUESTED, "officer", "Application withdrawn"
        case TransitConsented():
            return Side.REQUESTING, "officer", "Transit consented"
        case TransitRefused():
            return Side.REQUESTING, "officer", "Transit refused"
        case TransitDeemedConsented():
            return Side.REQUESTING, "officer", "Transit deemed consented (no reply in time)"
        case TransitScheduled():
            return Side.REQUESTED, "officer", "Transit scheduled"
        case TransitCompleted():
            return Side.REQUESTING, "officer", "Transit completed"
        case TransitFailed():
            return Side.REQUESTING, "supervisor", "Transit failed: take the person back"
        case PersonTakenBack():
            return Side.REQUESTED, "officer", "Person taken back after the failed transit"
        # a reply's approval (domain.reply_approval): the requested state's own business
        case ReplyDrafted():
            return Side.REQUESTED, "supervisor", "A drafted reply awaits your approval"
        case ReplyReturned():
            return Side.REQUESTED, "officer", "Drafted reply returned: draft it again"
        # a message (domain.messages) goes to the other side's officers
        case CaseMessageSent(kind=MessageKind.REQUEST_INFORMATION):
            return Side.REQUESTING, "officer", "Request for information from the other state"
        case CaseMessageSent(kind=MessageKind.REQUEST_INTERVIEW):
            return Side.REQUESTING, "officer", "Request for an interview from the other state"
        case CaseMessageSent(kind=MessageKind.ANSWER):
            return Side.REQUESTED, "officer", "Answer from the other state"
        case CaseMessageSent(side=Side.REQUESTING):
            return Side.REQUESTED, "officer", "Note from the other state"
        case CaseMessageSent():
            return Side.REQUESTING, "officer", "Note from the other state"
        case _:
            return None


def notices_for(
    case_id: str, recorded: Iterable[tuple[UUID, Event]], state: CaseState
) -> list[Notice]:
    """The notices due for newly recorded `(event_id, event)` pairs, given the state after them."""
    notices: list[Notice] = []
    for event_id, event in recorded:
        if isinstance(event, DeadlineEscalated):
            side = ACTING_SIDE.get(event.limit, Side.REQUESTING)
            notices.append(
                Notice(
                    key=f"{case_id}:{event.limit}:{event.level.value}:{event.due.isoformat()}",
                    case_id=case_id,
                    state=_party(state, side),
                    role=event.level.recipient_role,
                    kind=event.level.value,
                    subject=f"{case_id}: {_escalation_subject(event)}",
                    event_id=event_id,
                    limit=event.limit,
                    level=event.level,
                    due=event.due,
                    assignee=_assignee(state, side, event.level.recipient_role),
                )
            )
            continue
        if isinstance(event, EscalationRepeated):
            # to the supervisors, like the escalation it repeats (one notice per repeat)
            side = ACTING_SIDE.get(event.limit, Side.REQUESTING)
            notices.append(
                Notice(
                    key=f"{case_id}:{event.limit}:{REPEATED}:{event.due.isoformat()}:"
                    f"{event.repeat}",
                    case_id=case_id,
                    state=_party(state, side),
                    role="supervisor",
                    kind=REPEATED,
                    subject=f"{case_id}: {_repeat_subject(event)}",
                    event_id=event_id,
                    limit=event.limit,
                    level=EscalationLevel.ESCALATION_PASSED,
                    due=event.due,
                )
            )
            continue
        found = _event_notice(event)
        if found is None:
            continue
        side, role, subject = found
        if isinstance(event, ApplicationSubmitted) and state.is_transit:
            subject = "New transit request"
        if isinstance(event, CaseWithdrawn | PersonAmended) and state.submitted_at is None:
            continue  # the requested state never saw this case
        notices.append(
            Notice(
                key=f"{case_id}:{event.type}:{event_id}",
                case_id=case_id,
                state=_party(state, side),
                role=role,
                kind=event.type,
                subject=f"{case_id}: {subject}",
                event_id=event_id,
                assignee=_assignee(state, side, role),
            )
        )
        if isinstance(event, ErrorClaimDisputed):
            # a dispute goes to both sides' supervisors: theirs to settle (consultations, the
            # Joint Readmission Committee), outside the case
            notices.append(
                Notice(
                    key=f"{case_id}:{event.type}:{event_id}:requesting",
                    case_id=case_id,
                    state=_party(state, Side.REQUESTING),
                    role="supervisor",
                    kind=event.type,
                    subject=f"{case_id}: {subject}",
                    event_id=event_id,
                )
            )
    return notices


# The escalations' subjects, `{limit}` being the limit's name (underscores as spaces) and `{due}`
# its end. Adapters translate a stored subject by matching it against these (adapters/i18n.py).
ESCALATION_SUBJECTS: dict[EscalationLevel, str] = {
    EscalationLevel.REMINDER_HALF: "half of the {limit} limit has elapsed; it ends {due}",
    EscalationLevel.REMINDER_LAST_DAY: "the {limit} limit ends on the next working day ({due})",
    EscalationLevel.ESCALATION_NEAR: "escalation: the {limit} limit ends {due}",
    EscalationLevel.ESCALATION_PASSED: "escalation: the {limit} limit passed at {due}",
}


def _escalation_subject(event: DeadlineEscalated) -> str:
    due = event.due.strftime("%Y-%m-%d %H:%M %Z")
    limit = event.limit.replace("_", " ")
    return ESCALATION_SUBJECTS[event.level].format(limit=limit, due=due)


# A repeated escalation's kind and subject (`domain.escalations`): `{limit}`, `{due}` as above.
REPEATED = "escalation_repeated"
REPEATED_SUBJECT = "escalation repeated: the {limit} limit passed at {due}; acknowledge it"


def _repeat_subject(event: EscalationRepeated) -> str:
    due = event.due.strftime("%Y-%m-%d %H:%M %Z")
    return REPEATED_SUBJECT.format(limit=event.limit.replace("_", " "), due=due)
