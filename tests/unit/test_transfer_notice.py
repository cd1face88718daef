"""The transfer notice as the protocols give it: a transfer is notified at least
`notice_working_days` before it takes place (refused otherwise, the rule quoted); the other side
answers within `notice_reply_working_days`; where `silence_is_consent`, silence confirms it,
otherwise the limit escalates and the transfer waits for a confirmation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from factories import at, open_case, run, terms
from test_decider import ACCEPT_AT, SUBMIT_AT, refuses, types

from domain.agreements import NOTICE_REPLY, OnExpiry, TransferRules
from domain.commands import (
    AcceptApplication,
    CompleteTransfer,
    ConfirmReceipt,
    ConfirmTransfer,
    ExpireLimit,
    ObjectToTransfer,
    ScheduleTransfer,
    SubmitApplication,
)
from domain.errors import NoticeTooShort, ReasonsRequired, TransferNotConfirmed, WrongStatus
from domain.state import CaseState
from domain.terms import notice_reply_limit
from domain.values import LEGACY_RULESET, Side, Status

SOURCE = "XX protocol art. 5: notice 5 working days before; answer within 3 working days"
NOTIFIED_AT = at("2027-02-01T09:00:00+01:00")  # Monday; UA working days after it: 2, 3, 4, 5, 8 Feb


def notice_terms(*, silence_is_consent: bool) -> Any:
    rules = TransferRules(
        notice_working_days=5,
        notice_reply_working_days=3,
        silence_is_consent=silence_is_consent,
        bcps=("Medyka-Shehyni",),
        modes=("land",),
        source=SOURCE,
        verified=True,
    )
    base = terms()
    return terms(transfer=rules, limits={**base.limits, **notice_reply_limit(rules)})


def accepted(*, silence_is_consent: bool = True, **opening: Any) -> CaseState:
    case_terms = notice_terms(silence_is_consent=silence_is_consent)
    receipt = [ConfirmReceipt(at=SUBMIT_AT)]  # the receipt under ruleset 1, else acknowledged
    return run(
        [
            open_case(terms=case_terms, **opening),
            SubmitApplication(at=SUBMIT_AT),
            *receipt,
            AcceptApplication(at=ACCEPT_AT),
        ]
    )[0]


def schedule(on: str, at_: Any = NOTIFIED_AT) -> ScheduleTransfer:
    return ScheduleTransfer(at=at_, on=at(on), bcp="Medyka-Shehyni", mode="land")


def notified(*, silence_is_consent: bool = True) -> CaseState:
    return run(
        [schedule("2027-02-08T10:00:00+01:00")], accepted(silence_is_consent=silence_is_consent)
    )[0]


def test_the_protocol_gives_the_notice_reply_its_own_limit() -> None:
    rules = notice_terms(silence_is_consent=True).transfer
    [(name, reply)] = notice_reply_limit(rules).items()
    assert (
        name == NOTICE_REPLY and reply.amount == 3 and reply.on_expiry is OnExpiry.DEEMED_CONFIRMED
    )
    assert SOURCE in reply.source and reply.verified
    escalating = notice_reply_limit(notice_terms(silence_is_consent=False).transfer)[NOTICE_REPLY]
    assert escalating.on_expiry is OnExpiry.ESCALATE
    assert notice_reply_limit(TransferRules()) == {}


def test_a_transfer_notified_too_late_is_refused_with_the_rule_quoted() -> None:
    error = refuses(schedule("2027-02-05T10:00:00+01:00"), accepted(), NoticeTooShort)
    assert error.http_status == 422
    assert "at least 5 working days" in error.message and SOURCE in error.message
    assert "2027-02-08" in error.message  # the earliest date allowed


def test_a_transfer_notified_in_time_starts_the_answer_limit() -> None:
    state, events = run([schedule("2027-02-08T10:00:00+01:00")], accepted())
    assert [e.type for e in events] == ["TransferScheduled", "DeadlineSet"]
    answer = state.deadlines[NOTICE_REPLY]
    assert answer.triggered_at == NOTIFIED_AT
    assert answer.due == at("2027-02-04T23:59:59+02:00")  # 3 UA working days, Kyiv time
    assert NOTICE_REPLY in state.open_limits


def test_the_requested_state_confirms_and_the_transfer_can_take_place() -> None:
    state = notified()
    state, events = run([ConfirmTransfer(at=NOTIFIED_AT + timedelta(days=1))], state)
    assert [e.type for e in events] == ["TransferConfirmed"]
    assert state.transfer_confirmed_at is not None and not state.transfer_deemed_confirmed
    assert NOTICE_REPLY not in state.open_limits
    assert types(CompleteTransfer(at=at("2027-02-08T11:00:00+01:00")), state) == [
        "TransferCompleted",
        "DeadlineSet",
    ]


def test_no_transfer_before_its_notice_is_answered() -> None:
    error = refuses(
        CompleteTransfer(at=at("2027-02-03T11:00:00+01:00")), notified(), TransferNotConfirmed
    )
    assert "has not confirmed" in error.message and error.http_status == 409


def test_an_objection_sends_the_transfer_back_to_be_scheduled_anew() -> None:
    state = notified()
    refuses(ObjectToTransfer(at=NOTIFIED_AT, reasons=()), state, ReasonsRequired)
    state, events = run(
        [ObjectToTransfer(at=NOTIFIED_AT + timedelta(hours=2), reasons=("no escort available",))],
        state,
    )
    assert [e.type for e in events] == ["TransferObjected"]
    assert state.status is Status.TRANSFER_OBJECTED and NOTICE_REPLY not in state.open_limits
    refuses(CompleteTransfer(at=NOTIFIED_AT + timedelta(days=1)), state, WrongStatus)
    refuses(ConfirmTransfer(at=NOTIFIED_AT + timedelta(days=1)), state, WrongStatus)
    later = NOTIFIED_AT + timedelta(days=1)
    again, events = run([schedule("2027-02-15T10:00:00+01:00", later)], state)
    assert again.status is Status.TRANSFER_SCHEDULED and again.transfer_objection == ()
    assert again.deadlines[NOTICE_REPLY].triggered_at == later


def test_silence_confirms_where_the_protocol_says_so() -> None:
    state = notified(silence_is_consent=True)
    due = state.deadlines[NOTICE_REPLY].due
    state, events = run([ExpireLimit(at=due + timedelta(seconds=1), limit=NOTICE_REPLY)], state)
    assert [e.type for e in events] == ["DeadlineEscalated", "TransferConfirmed"]
    assert state.transfer_deemed_confirmed and state.status is Status.TRANSFER_SCHEDULED
    assert (
        types(CompleteTransfer(at=at("2027-02-08T11:00:00+01:00")), state)[0] == "TransferCompleted"
    )


def test_silence_only_escalates_where_it_is_not_consent() -> None:
    state = notified(silence_is_consent=False)
    due = state.deadlines[NOTICE_REPLY].due
    state, events = run([ExpireLimit(at=due + timedelta(seconds=1), limit=NOTICE_REPLY)], state)
    assert [e.type for e in events] == ["DeadlineEscalated"]
    assert NOTICE_REPLY in state.overdue and state.transfer_confirmed_at is None
    refuses(CompleteTransfer(at=at("2027-02-08T11:00:00+01:00")), state, TransferNotConfirmed)
    confirmed, _ = run([ConfirmTransfer(at=due + timedelta(hours=3))], state)  # late, but given
    assert confirmed.transfer_confirmed_at is not None and NOTICE_REPLY not in confirmed.overdue


def test_the_answer_is_the_requested_states_and_waited_for_first() -> None:
    from domain.actions import expected_actions
    from domain.commands import BY_NAME

    assert BY_NAME["confirm_transfer"].side is Side.REQUESTED
    assert BY_NAME["object_to_transfer"].side is Side.REQUESTED
    assert expected_actions(notified())[0] == (Side.REQUESTED, "confirm_transfer")
    confirmed = run([ConfirmTransfer(at=NOTIFIED_AT)], notified())[0]
    assert expected_actions(confirmed)[0] == (Side.REQUESTING, "complete_transfer")


def test_cases_opened_under_ruleset_1_keep_transfers_without_notice_terms() -> None:
    state = accepted(ruleset=LEGACY_RULESET)
    late = schedule("2027-02-03T10:00:00+01:00")  # too close under the protocol, as before
    state, events = run([late], state)
    assert [e.type for e in events] == ["TransferScheduled"]
    assert (
        types(CompleteTransfer(at=at("2027-02-03T11:00:00+01:00")), state)[0] == "TransferCompleted"
    )


def test_no_notice_terms_no_answer_needed() -> None:
    base = run([open_case(), SubmitApplication(at=SUBMIT_AT), AcceptApplication(at=ACCEPT_AT)])[0]
    state, events = run([schedule("2027-02-02T10:00:00+01:00")], base)
    assert [e.type for e in events] == ["TransferScheduled"]
    assert (
        types(CompleteTransfer(at=at("2027-02-02T11:00:00+01:00")), state)[0] == "TransferCompleted"
    )


def test_the_shipped_at_ua_protocol_confirms_by_silence_after_3_working_days() -> None:
    from adapters.agreements.catalogue import load_catalogue

    answer = load_catalogue().terms("EU-UA", "AT", "UA").limits[NOTICE_REPLY]
    assert (answer.amount, answer.unit.value, answer.from_.value) == (3, "working_days", "notice")
    assert answer.on_expiry is OnExpiry.DEEMED_CONFIRMED and "AT-UA protocol" in answer.source
    assert NOTICE_REPLY not in load_catalogue().terms("EU-UA", "PL", "UA").limits


def test_a_transfer_before_the_answer_to_its_notice_is_due_is_refused() -> None:
    """Silence confirms only once the answer's limit has ended: a transfer dated before it
    would take place unconfirmed."""
    error = refuses(schedule("2027-02-04T10:00:00+01:00"), accepted(), NoticeTooShort)
    assert "answer to its notice is due" in error.message and SOURCE in error.message


def test_the_lead_time_is_judged_once_when_the_notice_is_admitted() -> None:
    """The workflow decides an admitted command again on replay (`execute(admitted=True)`):
    the rules that count working days with the installed calendars are not judged again."""
    from domain.decider import decide

    too_close = schedule("2027-02-03T10:00:00+01:00")
    refuses(too_close, accepted(), NoticeTooShort)
    events = decide(too_close, accepted(), admitted=True)
    assert [e.type for e in events] == ["TransferScheduled", "DeadlineSet"]
