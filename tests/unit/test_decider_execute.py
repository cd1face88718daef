"""`execute`, the one domain call per command: given a state, when a command, then its events
(named by the ids the caller hands out), the state after them and their notices, or an error."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from factories import CASE_ID, T0, open_case
from test_decider import (
    ACCEPT_AT,
    RECEIPT_AT,
    REPLY_DUE,
    SUBMIT_AT,
    TRANSFER_DUE,
    accepted,
    opened,
    received,
    submitted,
)

from domain.commands import (
    AcceptApplication,
    Command,
    ConfirmReceipt,
    ExpireLimit,
    RefuseApplication,
    SubmitApplication,
    WithdrawCase,
)
from domain.decider import Decision, execute, fold, validate, with_recorded_deadlines
from domain.errors import DomainError, ReasonsRequired, ReplyDeadlinePassed, WrongStatus
from domain.events import DeadlineSet
from domain.state import CaseState
from domain.values import Status


def numbered() -> tuple[Callable[[], uuid.UUID], list[uuid.UUID]]:
    """An id factory handing out 1, 2, 3... and the list of ids it handed out."""
    given: list[uuid.UUID] = []

    def new_id() -> uuid.UUID:
        given.append(uuid.UUID(int=len(given) + 1))
        return given[-1]

    return new_id, given


def when(command: Command, state: CaseState) -> Decision:
    new_id, given = numbered()
    decision = execute(command, state, new_id)
    assert list(decision.event_ids) == given  # one id per event, in order
    assert decision.state == fold(decision.events, state)
    return decision


Party = tuple[str, str, str]  # (state told, role, kind)


@pytest.mark.parametrize(
    ("given", "command", "events", "status", "notices"),
    [
        pytest.param(
            CaseState,
            open_case(),
            ["CaseOpened", "DeadlineSet"],
            Status.DRAFT,
            [],
            id="open: nobody to tell yet",
        ),
        pytest.param(
            opened,
            SubmitApplication(at=SUBMIT_AT),
            ["ApplicationSubmitted", "ApplicationDelivered", "DeadlineSet"],
            Status.RECEIVED,
            [("UA", "officer", "ApplicationSubmitted")],
            id="submit: delivered, the requested state hears, the reply limit runs",
        ),
        pytest.param(
            submitted,
            ConfirmReceipt(at=RECEIPT_AT),
            ["ReceiptAcknowledged"],
            Status.RECEIVED,
            [("PL", "officer", "ReceiptAcknowledged")],
            id="acknowledging receipt moves nothing",
        ),
        pytest.param(
            received,
            AcceptApplication(at=ACCEPT_AT),
            ["ApplicationAccepted", "DeadlineSet"],
            Status.ACCEPTED,
            [("PL", "officer", "ApplicationAccepted")],
            id="acceptance starts the transfer limit",
        ),
        pytest.param(
            received,
            ExpireLimit(at=REPLY_DUE + timedelta(seconds=1), limit="reply"),
            ["DeadlineEscalated", "DeemedAccepted", "DeadlineSet"],
            Status.DEEMED_ACCEPTED,
            [("UA", "supervisor", "escalation_passed"), ("PL", "officer", "DeemedAccepted")],
            id="silence: deemed accepted",
        ),
        pytest.param(
            opened,
            WithdrawCase(at=SUBMIT_AT, reasons=("left voluntarily",)),
            ["CaseWithdrawn"],
            Status.WITHDRAWN,
            [],
            id="withdrawn before submission: the requested state never knew",
        ),
        pytest.param(
            accepted,
            WithdrawCase(at=ACCEPT_AT + timedelta(days=1), reasons=("left voluntarily",)),
            ["CaseWithdrawn"],
            Status.WITHDRAWN,
            [("UA", "officer", "CaseWithdrawn")],
            id="withdrawn after acceptance",
        ),
    ],
)
def test_given_when_then(
    given: Callable[[], CaseState],
    command: Command,
    events: list[str],
    status: Status,
    notices: list[Party],
) -> None:
    decision = when(command, given())
    assert [e.type for e in decision.events] == events
    assert decision.state.status is status
    assert [(n.state, n.role, n.kind) for n in decision.notices] == notices
    for notice in decision.notices:  # each names the event that caused it
        assert notice.case_id == CASE_ID and notice.event_id in decision.event_ids


def test_deadlines_are_computed_in_the_decision() -> None:
    receipt = when(SubmitApplication(at=SUBMIT_AT), opened())
    acceptance = when(AcceptApplication(at=ACCEPT_AT), receipt.state)
    events = [*receipt.events, *acceptance.events]
    due = [e.deadline.due for e in events if isinstance(e, DeadlineSet)]
    assert due == [REPLY_DUE, TRANSFER_DUE]
    assert acceptance.state.deadlines["transfer"].due == TRANSFER_DUE


def test_notice_keys_follow_the_event_ids() -> None:
    decision = when(ConfirmReceipt(at=RECEIPT_AT), submitted())
    [notice] = decision.notices
    assert notice.key == f"{CASE_ID}:ReceiptAcknowledged:{decision.event_ids[0]}"


@pytest.mark.parametrize(
    ("given", "command", "error"),
    [
        (received, RefuseApplication(at=ACCEPT_AT, reasons=()), ReasonsRequired),
        (received, AcceptApplication(at=REPLY_DUE + timedelta(hours=1)), ReplyDeadlinePassed),
        (opened, AcceptApplication(at=T0 + timedelta(days=1)), WrongStatus),
    ],
)
def test_a_refused_command_names_no_event(
    given: Callable[[], CaseState], command: Command, error: type[DomainError]
) -> None:
    new_id, handed_out = numbered()
    state = given()
    with pytest.raises(error):
        execute(command, state, new_id)
    assert handed_out == []
    with pytest.raises(error):  # the update validator's check refuses the same way
        validate(command, state)


def test_the_state_given_is_left_as_it_was() -> None:
    state = submitted()
    before = state.model_copy(deep=True)
    when(ConfirmReceipt(at=RECEIPT_AT), state)
    assert state == before


def test_a_decision_takes_the_deadlines_as_recorded() -> None:
    before = opened()
    decision = when(SubmitApplication(at=SUBMIT_AT), before)
    assert with_recorded_deadlines(decision, (), before) is decision
    computed = decision.state.deadlines["reply"]
    assert with_recorded_deadlines(decision, (computed,), before) is decision
    recorded = computed.model_copy(update={"due": computed.due + timedelta(days=1)})
    taken = with_recorded_deadlines(decision, (recorded,), before)
    assert taken.event_ids == decision.event_ids
    assert [e.deadline for e in taken.events if isinstance(e, DeadlineSet)] == [recorded]
    assert taken.state == fold(taken.events, before)
    assert taken.state.deadlines["reply"] == recorded
