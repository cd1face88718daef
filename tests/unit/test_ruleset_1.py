"""Cases opened by v0.2 (ruleset 1) keep their procedures for life: the reply limit runs from the
requested state's confirmation of receipt, as when they were opened. New cases (ruleset 2)
start it at delivery (`test_decider`)."""

from __future__ import annotations

from datetime import timedelta

from factories import at, open_case, run
from test_decider import ACCEPT_AT, RECEIPT_AT, REPLY_DUE, SUBMIT_AT

from domain.actions import expected_actions
from domain.commands import (
    AcceptApplication,
    ClaimReadmissionInError,
    CompleteTransfer,
    ConfirmReceipt,
    ScheduleTransfer,
    SubmitApplication,
)
from domain.events import CaseOpened, dump_event, parse_event
from domain.values import CURRENT_RULESET, LEGACY_RULESET, Status


def test_new_cases_open_under_the_current_ruleset() -> None:
    state, events = run([open_case()])
    assert state.ruleset == CURRENT_RULESET == 2
    assert isinstance(events[0], CaseOpened) and events[0].ruleset == CURRENT_RULESET


def test_an_opening_stored_before_rulesets_reads_as_ruleset_1() -> None:
    _, events = run([open_case()])
    stored = dump_event(events[0])
    del stored["ruleset"]
    opened = parse_event(stored)
    assert isinstance(opened, CaseOpened) and opened.ruleset == LEGACY_RULESET


def test_under_ruleset_1_the_confirmation_is_the_receipt() -> None:
    state, events = run([open_case(ruleset=LEGACY_RULESET), SubmitApplication(at=SUBMIT_AT)])
    assert [e.type for e in events][-1] == "ApplicationSubmitted"
    assert state.status is Status.SUBMITTED and "reply" not in state.deadlines
    later = RECEIPT_AT.replace(hour=15)
    state, events = run([ConfirmReceipt(at=later)], state)
    assert [e.type for e in events] == ["ReceiptConfirmed", "DeadlineSet"]
    assert state.status is Status.RECEIVED
    assert state.received_at == state.acknowledged_at == later
    assert state.deadlines["reply"].triggered_at == later
    assert state.deadlines["reply"].due == REPLY_DUE  # same local day as the delivery's


def test_under_ruleset_1_a_claim_of_readmission_in_error_alone_returns_the_case() -> None:
    """v0.2's single step: no answer, no return, no limit; the case waits only for closing."""
    state, _ = run(
        [
            open_case(ruleset=LEGACY_RULESET),
            SubmitApplication(at=SUBMIT_AT),
            ConfirmReceipt(at=RECEIPT_AT),
            AcceptApplication(at=ACCEPT_AT),
            ScheduleTransfer(
                at=ACCEPT_AT, on=ACCEPT_AT + timedelta(days=5), bcp="Medyka-Shehyni", mode="land"
            ),
            CompleteTransfer(at=ACCEPT_AT + timedelta(days=5)),
        ]
    )
    claim = ClaimReadmissionInError(at=at("2027-03-01T10:00:00+02:00"), reasons=("not ours",))
    state, events = run([claim], state)
    assert [e.type for e in events] == ["ReadmissionInErrorClaimed"]
    assert state.status is Status.RETURNED_IN_ERROR and state.open_limits == ()
    assert "error_answer" not in state.deadlines
    assert [name for _, name in expected_actions(state)] == ["close"]


def test_under_ruleset_1_receipt_is_confirmed_once_even_without_its_time() -> None:
    """A state carried over from v0.2 (continue-as-new) has no `acknowledged_at`: a second
    confirmation is refused all the same, and not offered."""
    from test_decider import refuses

    from domain.actions import expected_actions
    from domain.errors import AlreadyRecorded

    state, _ = run([open_case(ruleset=LEGACY_RULESET), SubmitApplication(at=SUBMIT_AT)])
    state = run([ConfirmReceipt(at=RECEIPT_AT)], state)[0]
    carried = state.model_copy(update={"acknowledged_at": None})
    refuses(ConfirmReceipt(at=RECEIPT_AT), carried, AlreadyRecorded)
    assert "confirm_receipt" not in [name for _, name in expected_actions(carried)]
    submitted = run([open_case(ruleset=LEGACY_RULESET), SubmitApplication(at=SUBMIT_AT)])[0]
    assert expected_actions(submitted)[0][1] == "confirm_receipt"  # its due move
