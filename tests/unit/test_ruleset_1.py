"""Cases opened by v0.2 (ruleset 1) keep their procedures for life: the reply limit runs from the
requested state's confirmation of receipt, as when they were opened. New cases (ruleset 2)
start it at delivery (`test_decider`)."""

from __future__ import annotations

from factories import open_case, run
from test_decider import RECEIPT_AT, REPLY_DUE, SUBMIT_AT

from domain.commands import ConfirmReceipt, SubmitApplication
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
