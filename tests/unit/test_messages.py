"""Messages between the two states (domain.messages): decider tables for who may send what and
when, the state the case keeps of its conversation, the notice each message calls for, the
limit a request for information carries where the terms set one, and where messages go."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from factories import T0, open_case, run, terms

from domain.actions import expected_actions
from domain.commands import (
    AcceptApplication,
    CloseCase,
    Command,
    SendCaseMessage,
    SubmitApplication,
    WithdrawCase,
    issued_by,
    personal_data_in_clear,
)
from domain.decider import decide, execute, fold, validate
from domain.errors import (
    AlreadyRecorded,
    CaseClosedError,
    DomainError,
    InvalidCommand,
    MessageNotAllowed,
    WrongStatus,
)
from domain.events import CaseMessageSent, dump_event, parse_event
from domain.federation import crosses
from domain.message_values import MessageKind
from domain.state import CaseState
from domain.values import Sealed, Side, Status
from workflows.contracts import Actor
from workflows.readmission_case import may_not_act

AT = T0 + timedelta(hours=1)
REQUESTING, REQUESTED = Side.REQUESTING, Side.REQUESTED
SEAL = Sealed(sealed="v1.AAAAAAAAAAAAAAAAAAAAAAAA")
ASK = UUID("00000000-0000-4000-8000-000000000001")
INTERVIEW = UUID("00000000-0000-4000-8000-000000000002")
NOTE = UUID("00000000-0000-4000-8000-000000000003")


def message(
    kind: MessageKind,
    side: Side,
    message_id: UUID | None = None,
    answers: UUID | None = None,
    at: object = AT,
) -> SendCaseMessage:
    return SendCaseMessage(
        at=at,
        side=side,
        message_id=message_id or uuid4(),
        kind=kind,
        text=SEAL,
        answers=answers,
    )


def ask(message_id: UUID = ASK) -> SendCaseMessage:
    return message(MessageKind.REQUEST_INFORMATION, REQUESTED, message_id)


def submitted(**term_changes: object) -> CaseState:
    opening = open_case(terms=terms(**term_changes)) if term_changes else open_case()
    return run([opening, SubmitApplication(at=T0 + timedelta(minutes=5))])[0]


def with_(commands: list[Command], state: CaseState | None = None) -> CaseState:
    return run(commands, state or submitted())[0]


def refuses(command: Command, state: CaseState, error: type[DomainError]) -> str:
    with pytest.raises(error) as info:
        decide(command, state)
    with pytest.raises(error):
        validate(command, state)
    return info.value.message


# --- the decider ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "command"),
    [
        ([], ask()),
        ([], message(MessageKind.REQUEST_INTERVIEW, REQUESTED)),
        ([], message(MessageKind.NOTE, REQUESTING)),
        ([], message(MessageKind.NOTE, REQUESTED)),
        ([ask()], message(MessageKind.ANSWER, REQUESTING, answers=ASK)),
        ([ask()], message(MessageKind.NOTE, REQUESTED, answers=ASK)),  # a follow-up
    ],
)
def test_each_message_is_one_event_kept_by_the_case(
    before: list[Command], command: SendCaseMessage
) -> None:
    state = with_(before)
    (event,) = decide(command, state)
    assert isinstance(event, CaseMessageSent)
    assert (event.message_id, event.side, event.kind, event.text, event.answers) == (
        command.message_id,
        command.side,
        command.kind,
        command.text,
        command.answers,
    )
    after = fold([event], state)
    kept = after.messages[str(command.message_id)]
    assert (kept.side, kept.kind) == (command.side, command.kind)


def test_an_answer_marks_its_request_answered() -> None:
    state = with_([ask(), message(MessageKind.ANSWER, REQUESTING, answers=ASK)])
    assert state.messages[str(ASK)].answered
    assert len(state.messages) == 2


@pytest.mark.parametrize(
    ("before", "command", "error", "words"),
    [
        ([], message(MessageKind.REQUEST_INFORMATION, REQUESTING), MessageNotAllowed, "requested"),
        ([], message(MessageKind.REQUEST_INTERVIEW, REQUESTING), MessageNotAllowed, "requested"),
        ([ask()], message(MessageKind.ANSWER, REQUESTED, answers=ASK), MessageNotAllowed, "req"),
        ([], message(MessageKind.ANSWER, REQUESTING), InvalidCommand, "names the request"),
        ([], message(MessageKind.ANSWER, REQUESTING, answers=ASK), MessageNotAllowed, "no message"),
        (
            [message(MessageKind.NOTE, REQUESTED, NOTE)],
            message(MessageKind.ANSWER, REQUESTING, answers=NOTE),
            MessageNotAllowed,
            "answers a request",
        ),
        ([ask()], ask(), AlreadyRecorded, "already recorded"),
        ([], message(MessageKind.NOTE, REQUESTING, answers=NOTE), MessageNotAllowed, "no message"),
    ],
)
def test_refusals(
    before: list[Command], command: Command, error: type[DomainError], words: str
) -> None:
    assert words in refuses(command, with_(before), error)


def test_a_draft_and_a_closed_case_have_no_conversation_a_final_outcome_has() -> None:
    draft = run([open_case()])[0]
    assert "submitted" in refuses(message(MessageKind.NOTE, REQUESTING), draft, WrongStatus)
    refuses(message(MessageKind.NOTE, REQUESTING), CaseState(), WrongStatus)
    withdrawn = with_([WithdrawCase(at=AT, reasons=("no longer needed",))])
    assert withdrawn.status is Status.WITHDRAWN
    assert with_([message(MessageKind.NOTE, REQUESTED, at=AT)], withdrawn).messages
    closed = with_([CloseCase(at=AT)], withdrawn)
    assert closed.status is Status.CLOSED
    assert "closed" in refuses(message(MessageKind.NOTE, REQUESTING), closed, CaseClosedError)


def test_a_message_before_the_last_event_is_refused() -> None:
    early = message(MessageKind.NOTE, REQUESTING, at=T0 - timedelta(days=1))
    refuses(early, submitted(), InvalidCommand)


# --- the limit of a request for information --------------------------------------------------


def test_a_request_carries_no_limit_where_the_terms_set_none() -> None:
    (event,) = decide(ask(), submitted())
    assert isinstance(event, CaseMessageSent) and event.answer_due is None


def test_a_request_for_information_carries_the_terms_limit_and_an_interview_none() -> None:
    state = submitted(messages={"information_answer_days": 10, "source": "test", "verified": False})
    (event,) = decide(ask(), state)
    assert isinstance(event, CaseMessageSent) and event.answer_due == AT + timedelta(days=10)
    assert fold([event], state).messages[str(ASK)].answer_due == AT + timedelta(days=10)
    (interview,) = decide(message(MessageKind.REQUEST_INTERVIEW, REQUESTED, INTERVIEW), state)
    assert isinstance(interview, CaseMessageSent) and interview.answer_due is None


def test_a_protocol_may_set_the_limit_for_its_state_only() -> None:
    from adapters.agreements.catalogue import load_catalogue
    from domain.agreements import Protocol
    from domain.terms import resolve_terms

    catalogue = load_catalogue()
    agreement = catalogue.agreement("EU-UA")
    protocol = catalogue.protocol("EU-UA", "PL")
    assert protocol is not None
    data = protocol.model_dump(by_alias=True, exclude_unset=True)
    data["messages"] = {"information_answer_days": 7, "source": "a test protocol"}
    overlaid = Protocol.model_validate(data)
    terms_ = resolve_terms(agreement, overlaid, "PL", "UA")
    assert terms_.messages.information_answer_days == 7
    assert resolve_terms(agreement, None, "PL", "UA").messages.information_answer_days is None


def test_no_shipped_agreement_or_protocol_sets_a_limit_research_has_not_confirmed() -> None:
    from adapters.agreements.catalogue import load_catalogue

    catalogue = load_catalogue()
    for pair in (("PL", "UA"), ("AT", "UA"), ("AT", "GE")):
        agreement = "EU-UA" if pair[1] == "UA" else "EU-GE"
        found = catalogue.terms(agreement, *pair)
        assert found.messages.information_answer_days is None, pair


# --- what a message is not, and what it calls for --------------------------------------------


def test_a_message_moves_no_status_no_limit_and_notifies_the_other_side() -> None:
    state = submitted()
    for command, told, subject in (
        (ask(), "PL", "Request for information from the other state"),
        (message(MessageKind.REQUEST_INTERVIEW, REQUESTED), "PL", "Request for an interview"),
        (message(MessageKind.NOTE, REQUESTED), "PL", "Note from the other state"),
        (message(MessageKind.NOTE, REQUESTING), "UA", "Note from the other state"),
    ):
        decision = execute(command, state, uuid4)
        (notice,) = decision.notices
        assert (notice.state, notice.role, notice.kind) == (told, "officer", "CaseMessageSent")
        assert subject in notice.subject and notice.case_id in notice.subject
        after = decision.state
        assert (after.status, after.open_limits, after.deadlines, after.updated_at) == (
            state.status,
            state.open_limits,
            state.deadlines,
            state.updated_at,
        )
        assert expected_actions(after) == expected_actions(state)
    answered = with_([ask()], state)
    (notice,) = execute(
        message(MessageKind.ANSWER, REQUESTING, answers=ASK), answered, uuid4
    ).notices
    assert notice.state == "UA" and "Answer from the other state" in notice.subject


def test_a_message_is_no_move_of_the_case_a_reply_counted_before_it_still_counts() -> None:
    state = submitted()
    due = state.deadlines["reply"].due
    noted = with_([message(MessageKind.NOTE, REQUESTING, at=due + timedelta(seconds=30))], state)
    reply = AcceptApplication(at=due - timedelta(seconds=10))
    assert [e.type for e in decide(reply, noted)] == [e.type for e in decide(reply, state)]


def test_the_event_is_stored_and_read_back_and_the_case_replays_the_same() -> None:
    state, events = run(
        [
            open_case(),
            SubmitApplication(at=T0 + timedelta(minutes=5)),
            ask(),
            message(MessageKind.ANSWER, REQUESTING, answers=ASK),
        ]
    )
    for event in events:
        assert parse_event(dump_event(event)) == event
    assert fold(parse_event(dump_event(e)) for e in events) == state


def test_a_message_text_in_the_clear_is_refused_by_the_case() -> None:
    clear = SendCaseMessage(
        at=AT, side=REQUESTED, message_id=ASK, kind=MessageKind.NOTE, text="Mr Shevchenko's aunt"
    )
    assert personal_data_in_clear(clear) == ("text",)
    assert personal_data_in_clear(ask()) == ()


# --- who may send them, and where they go -----------------------------------------------------

PL_OFFICER = Actor(user_id="officer.pl", state="PL", role="officer")
UA_OFFICER = Actor(user_id="officer.ua", state="UA", role="officer")
PL_AUDITOR = Actor(user_id="auditor.pl", state="PL", role="auditor")


@pytest.mark.parametrize(
    ("actor", "command", "refused"),
    [
        (UA_OFFICER, ask(), None),
        (PL_OFFICER, message(MessageKind.NOTE, REQUESTING), None),
        (PL_OFFICER, ask(), "requested state (UA)"),  # the side it names is not theirs
        (PL_AUDITOR, message(MessageKind.NOTE, REQUESTING), "an auditor issues no case commands"),
    ],
)
def test_who_may_send(actor: Actor, command: Command, refused: str | None) -> None:
    found = may_not_act(actor, command, submitted())
    assert found == refused if refused is None else (found is not None and refused in found)


def test_messages_cross_to_the_other_node_once_submitted() -> None:
    assert issued_by(ask()) is REQUESTED
    assert crosses(ask(), submitted())
    assert crosses(message(MessageKind.NOTE, REQUESTING), submitted())


def test_a_limit_set_by_a_file_without_confirmation_is_listed_as_unverified() -> None:
    unset = submitted().terms
    assert unset is not None and "messages" not in dict(unset.unverified_values)
    rules = {"information_answer_days": 10, "source": "protocol draft", "verified": False}
    set_by_file = submitted(messages=rules).terms
    assert set_by_file is not None
    assert dict(set_by_file.unverified_values)["messages"] == "protocol draft"


def test_a_message_near_a_deadline_is_never_late_and_counts_when_received() -> None:
    """A reply sent in time but received after its deadline counts at its sending instant, and
    one sent after it is late (docs/federation.md); a message is no reply: it counts when it is
    received, whatever the deadlines of its side."""
    from domain.federation import counted_at, late

    state = submitted()
    due = state.deadlines["reply"].due
    now = due + timedelta(seconds=30)
    for sent_at in (due - timedelta(seconds=10), due + timedelta(seconds=10)):
        note = message(MessageKind.NOTE, REQUESTED, at=sent_at)
        assert late(note, REQUESTED, state, sent_at, now) is None
        assert counted_at(note, REQUESTED, state, sent_at, now) == now
    reply = AcceptApplication(at=due + timedelta(seconds=10))
    assert late(reply, REQUESTED, state, reply.at, now) == "reply"  # what a reply would be
