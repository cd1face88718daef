"""Messages between the two states: a case's conversation.

The requested state asks for more information or for an interview of the person, the
requesting state answers such a request, and either side writes a note to the other
(`SendCaseMessage`, issued by either side for itself: `Side.EITHER`). Each message is one
`CaseMessageSent` event: its author is the event's actor, its text is sealed with the case key
like every free text (so erasing the key erases the conversation), and the other side's officers
are notified (`domain.notices`). A message crosses to the other node of a shared case like any
officer's command after the submission (`domain.federation.crosses`).

A conversation runs from the submission (a draft exists on the requesting side only: there is
no one to write to) until the case is closed. A request for information carries the instant by
which it is to be answered where the case's terms set a limit (`[messages]
information_answer_days` of the agreement or protocol file); no shipped file sets one, as the
research behind them confirmed none (shared reference: agreements-research.json), so today's
requests carry none. The limit is shown, not enforced: an answer after it is still recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.agreements import AgreementTerms
from domain.commands import SendCaseMessage
from domain.errors import (
    AlreadyRecorded,
    CaseClosedError,
    InvalidCommand,
    MessageNotAllowed,
    WrongStatus,
)
from domain.events import CaseMessageSent
from domain.message_values import MessageKind, MessageOnRecord
from domain.state import CaseState
from domain.values import Side, Status

# Who may send each kind (`None`: either side).
SENDER: dict[MessageKind, Side | None] = {
    MessageKind.REQUEST_INFORMATION: Side.REQUESTED,
    MessageKind.REQUEST_INTERVIEW: Side.REQUESTED,
    MessageKind.ANSWER: Side.REQUESTING,
    MessageKind.NOTE: None,
}


def decide_message(command: SendCaseMessage, state: CaseState) -> list[CaseMessageSent]:
    """The one `CaseMessageSent` a message records, or the rule it breaks: a submitted case not
    yet closed, a new message id, a kind its side may send, an answer to a request of the
    other side, a reply (`answers`) to a message of the case."""
    if not state.opened or state.status is Status.DRAFT:
        raise WrongStatus("messages start once the application is submitted")
    if state.status is Status.CLOSED:
        raise CaseClosedError("the case is closed: its conversation is over")
    key = str(command.message_id)
    if key in state.messages:
        raise AlreadyRecorded(f"message {key} is already recorded")
    sender = SENDER[command.kind]
    if sender is not None and command.side is not sender:
        raise MessageNotAllowed(f"a {command.kind.value} is the {sender.value} state's to send")
    if command.kind is MessageKind.ANSWER and command.answers is None:
        raise InvalidCommand("an answer names the request it answers (answers)")
    if command.answers is not None:
        answered = state.messages.get(str(command.answers))
        if answered is None:
            raise MessageNotAllowed(f"the case has no message {command.answers}")
        if command.kind is MessageKind.ANSWER and (
            not answered.kind.is_request or answered.side is command.side
        ):
            raise MessageNotAllowed("an answer answers a request of the other state")
    return [
        CaseMessageSent(
            at=command.at,
            message_id=command.message_id,
            side=command.side,
            kind=command.kind,
            text=command.text,
            answers=command.answers,
            answer_due=answer_due(command.kind, command.at, state.terms),
        )
    ]


def answer_due(kind: MessageKind, at: datetime, terms: AgreementTerms | None) -> datetime | None:
    """By when a request sent at `at` is to be answered: for a request for information, the
    terms' `information_answer_days` calendar days later; None where they set no limit."""
    if kind is not MessageKind.REQUEST_INFORMATION or terms is None:
        return None
    days = terms.messages.information_answer_days
    return None if days is None else at + timedelta(days=days)


def message_recorded(state: CaseState, event: CaseMessageSent) -> dict[str, object]:
    """The state's changes once `event` is recorded (an `evolve` step): the message kept, the
    request it answers marked answered. Like an assignment, a message is not a move of the case:
    `updated_at` stays the case's last move, so a reply counted at its signed sending instant on
    a shared case is never "before the last event" because a message was recorded meanwhile."""
    messages = dict(state.messages)
    messages[str(event.message_id)] = MessageOnRecord(
        side=event.side, kind=event.kind, answer_due=event.answer_due
    )
    if event.kind is MessageKind.ANSWER and event.answers is not None:
        request = messages.get(str(event.answers))
        if request is not None:
            messages[str(event.answers)] = request.model_copy(update={"answered": True})
    return {"updated_at": state.updated_at, "messages": messages}
