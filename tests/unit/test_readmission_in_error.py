"""Decider tables of readmission in error as a procedure (ruleset 2): the requested state's claim
with reasons, the requesting state's answer (accept, or dispute with reasons), the person's
return planned and completed by the requested state within its own limit, then closed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from factories import at, open_case, run, terms
from test_decider import ACCEPT_AT as REPLY_AT
from test_decider import RECEIPT_AT, SUBMIT_AT, refuses, transferred, types

from domain.actions import closes_by_itself, expected_actions, waiting_for
from domain.agreements import OnExpiry
from domain.commands import (
    AcceptApplication,
    AcceptErrorClaim,
    ClaimReadmissionInError,
    CloseCase,
    CompleteReturn,
    CompleteTransfer,
    ConfirmReceipt,
    DisputeErrorClaim,
    ExpireLimit,
    RecordEscalation,
    ScheduleReturn,
    ScheduleTransfer,
    SubmitApplication,
    WithdrawCase,
)
from domain.deadline_starts import counted_from
from domain.decider import execute
from domain.errors import (
    CaseClosedError,
    ErrorAnswerPassed,
    InvalidCommand,
    LimitNotExpired,
    ReasonsRequired,
    ReturnNotAllowed,
    WrongStatus,
)
from domain.notices import notices_for
from domain.state import CaseState
from domain.values import EscalationLevel, Side, Status

CLAIM_AT = at("2027-03-01T10:00:00+02:00")
# 14 calendar days in the requesting state's calendar (PL): day 0 is 1 March
ANSWER_DUE = at("2027-03-15T23:59:59+01:00")
ACCEPT_AT = at("2027-03-05T09:00:00+01:00")
# 3 months in the requested state's calendar (UA) from the acceptance
RETURN_DUE = at("2027-06-05T23:59:59+03:00")
RETURN_PLAN = {"bcp": "Medyka-Shehyni", "mode": "land", "escorts": 1}


def claimed() -> CaseState:
    claim = ClaimReadmissionInError(at=CLAIM_AT, reasons=("a national of a third country",))
    return run([claim], transferred())[0]


def error_accepted() -> CaseState:
    return run([AcceptErrorClaim(at=ACCEPT_AT, note="will take back")], claimed())[0]


def schedule(at_: Any, on: Any, **changes: Any) -> ScheduleReturn:
    return ScheduleReturn.model_validate({"at": at_, "on": on, **RETURN_PLAN, **changes})


def return_scheduled() -> CaseState:
    plan = schedule(at("2027-03-10T09:00:00+02:00"), at("2027-03-20T08:00:00+02:00"))
    return run([plan], error_accepted())[0]


def names(state: CaseState) -> list[tuple[Side, str]]:
    return list(expected_actions(state))


def test_readmission_in_error_claim_answer_return_closed() -> None:
    """Readmission in error: claim → answer → return → closed."""
    state, events = run(
        [
            ClaimReadmissionInError(at=CLAIM_AT, reasons=("a national of a third country",)),
            AcceptErrorClaim(at=ACCEPT_AT),
            schedule(at("2027-03-10T09:00:00+02:00"), at("2027-03-20T08:00:00+02:00")),
            CompleteReturn(at=at("2027-03-20T09:30:00+02:00")),
            CloseCase(at=at("2027-03-20T09:30:01+02:00")),
        ],
        transferred(),
    )
    assert [e.type for e in events] == [
        "ErrorClaimed",
        "DeadlineSet",
        "ErrorClaimAccepted",
        "DeadlineSet",
        "ReturnScheduled",
        "ReturnCompleted",
        "CaseClosed",
    ]
    assert [e.deadline.limit for e in events if e.type == "DeadlineSet"] == [
        "error_answer",
        "error_return",
    ]
    assert events[-1].type == "CaseClosed" and events[-1].outcome == "returned_in_error"
    assert state.status is Status.CLOSED and state.open_limits == ()
    assert state.returned_at == at("2027-03-20T09:30:00+02:00")


def test_the_claim_closes_the_window_and_starts_the_answer_limit_of_the_requesting_state() -> None:
    state = claimed()
    assert state.status is Status.ERROR_CLAIMED
    assert state.error_claimed_at == CLAIM_AT
    assert state.error_claim_reasons == ("a national of a third country",)
    assert state.open_limits == ("error_answer",)
    answer = state.deadlines["error_answer"]
    assert (answer.due, answer.calendar, answer.trigger.value) == (ANSWER_DUE, "PL", "claim")
    assert names(state) == [
        (Side.REQUESTING, "accept_error_claim"),
        (Side.REQUESTING, "dispute_error_claim"),
    ]
    assert waiting_for(state) is Side.REQUESTING


def test_acceptance_starts_the_return_limit_of_the_requested_state() -> None:
    state = error_accepted()
    assert state.status is Status.ERROR_ACCEPTED and state.error_answered_at == ACCEPT_AT
    assert state.open_limits == ("error_return",)
    assert state.deadlines["error_return"].due == RETURN_DUE
    assert state.deadlines["error_return"].calendar == "UA"
    assert counted_from(state.deadlines["error_return"], state.ruleset) == "acceptance_of_the_claim"
    assert counted_from(state.deadlines["error_answer"], state.ruleset) == "claim"
    assert names(state) == [(Side.REQUESTED, "schedule_return")]


def test_the_return_may_be_rescheduled_and_completing_it_ends_the_limit() -> None:
    state = return_scheduled()
    assert state.status is Status.RETURN_SCHEDULED and state.return_plan is not None
    assert names(state) == [
        (Side.REQUESTED, "complete_return"),
        (Side.REQUESTED, "schedule_return"),
    ]
    later = schedule(at("2027-03-12T09:00:00+02:00"), at("2027-03-25T08:00:00+02:00"))
    state, _ = run([later], state)
    assert state.return_plan is not None and state.return_plan.on == later.on
    state, events = run([CompleteReturn(at=at("2027-03-25T10:00:00+02:00"))], state)
    assert [e.type for e in events] == ["ReturnCompleted"]
    assert state.status is Status.RETURNED_IN_ERROR and state.open_limits == ()
    assert closes_by_itself(state)


def test_a_dispute_needs_reasons_and_ends_the_procedure_as_disputed() -> None:
    refuses(DisputeErrorClaim(at=ACCEPT_AT, reasons=()), claimed(), ReasonsRequired)
    state, events = run(
        [DisputeErrorClaim(at=ACCEPT_AT, reasons=("the person holds our passport",))], claimed()
    )
    assert [e.type for e in events] == ["ErrorClaimDisputed"]
    assert state.status is Status.ERROR_DISPUTED and state.open_limits == ()
    assert state.error_dispute_reasons == ("the person holds our passport",)
    assert closes_by_itself(state)
    error = refuses(AcceptErrorClaim(at=ACCEPT_AT), state, WrongStatus)
    assert "final" in error.message
    assert types(CloseCase(at=ACCEPT_AT), state) == ["CaseClosed"]


def test_a_dispute_goes_to_both_sides_supervisors() -> None:
    dispute = DisputeErrorClaim(at=ACCEPT_AT, reasons=("ours",))
    ids = iter(uuid.UUID(int=n) for n in range(1, 10))
    decision = execute(dispute, claimed(), lambda: next(ids))
    assert {(n.state, n.role) for n in decision.notices} == {
        ("UA", "supervisor"),
        ("PL", "supervisor"),
    }
    assert len({n.key for n in decision.notices}) == 2


def test_silence_until_the_answer_limit_is_deemed_acceptance_and_starts_the_return() -> None:
    state = claimed()
    refuses(ExpireLimit(at=ANSWER_DUE, limit="error_answer"), state, LimitNotExpired)
    expiry = ExpireLimit(at=ANSWER_DUE + timedelta(seconds=1), limit="error_answer")
    state, events = run([expiry], state)
    assert [e.type for e in events] == [
        "DeadlineEscalated",
        "ErrorClaimDeemedAccepted",
        "DeadlineSet",
    ]
    assert state.status is Status.ERROR_ACCEPTED and state.open_limits == ("error_return",)
    assert state.deadlines["error_return"].triggered_at == expiry.at
    # the answer comes too late: the consequence applies
    refuses(AcceptErrorClaim(at=expiry.at), state, WrongStatus)


def test_an_answer_after_the_deemed_acceptance_limit_is_refused_before_the_clock_says_so() -> None:
    late = ANSWER_DUE + timedelta(milliseconds=500)
    refuses(AcceptErrorClaim(at=late), claimed(), ErrorAnswerPassed)
    refuses(DisputeErrorClaim(at=late, reasons=("x",)), claimed(), ErrorAnswerPassed)


def escalating_claim() -> CaseState:
    limits = dict(terms().limits)
    limits["error_answer"] = limits["error_answer"].model_copy(
        update={"on_expiry": OnExpiry.ESCALATE}
    )
    return run(
        [
            open_case(terms=terms(limits=limits)),
            SubmitApplication(at=SUBMIT_AT),
            ConfirmReceipt(at=RECEIPT_AT),
            AcceptApplication(at=REPLY_AT),
            ScheduleTransfer(
                at=REPLY_AT, on=REPLY_AT + timedelta(days=5), bcp="Medyka-Shehyni", mode="land"
            ),
            CompleteTransfer(at=REPLY_AT + timedelta(days=5)),
            ClaimReadmissionInError(at=CLAIM_AT, reasons=("x",)),
        ]
    )[0]


def test_where_silence_only_escalates_the_answer_is_still_awaited_after_the_limit() -> None:
    state = escalating_claim()
    expiry = ExpireLimit(at=ANSWER_DUE + timedelta(seconds=1), limit="error_answer")
    state, events = run([expiry], state)
    assert [e.type for e in events] == ["DeadlineEscalated"]
    assert state.status is Status.ERROR_CLAIMED and state.overdue == ("error_answer",)
    assert not closes_by_itself(state)
    state, _ = run([AcceptErrorClaim(at=expiry.at + timedelta(days=2))], state)
    assert state.status is Status.ERROR_ACCEPTED and state.overdue == ()


def test_reminders_of_the_answer_limit_are_recorded_like_any_limit() -> None:
    reminder = RecordEscalation(
        at=at("2027-03-08T12:00:00+01:00"),
        limit="error_answer",
        level=EscalationLevel.REMINDER_HALF,
    )
    state, events = run([reminder], claimed())
    assert events[0].type == "DeadlineEscalated" and events[0].due == ANSWER_DUE
    notices = notices_for("PL-UA-2027-000123", [(uuid.UUID(int=1), events[0])], state)
    assert [(n.state, n.role) for n in notices] == [("PL", "officer")]  # the answering side


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"bcp": "Nowhere"}, InvalidCommand),
        ({"mode": "sea"}, InvalidCommand),
        ({"on": at("2027-03-09T08:00:00+02:00")}, InvalidCommand),  # in the past
        ({"on": at("2027-06-06T08:00:00+03:00")}, ReturnNotAllowed),  # after the limit
    ],
)
def test_schedule_return_refusals(changes: dict[str, Any], error: type[Exception]) -> None:
    command = schedule(at("2027-03-10T09:00:00+02:00"), at("2027-03-20T08:00:00+02:00"))
    refuses(command.model_copy(update=changes), error_accepted(), error)


def test_once_the_return_limit_has_passed_it_escalates_and_a_later_return_is_still_planned() -> (
    None
):
    expiry = ExpireLimit(at=RETURN_DUE + timedelta(seconds=1), limit="error_return")
    state, events = run([expiry], error_accepted())
    assert [e.type for e in events] == ["DeadlineEscalated"]
    assert state.overdue == ("error_return",) and state.status is Status.ERROR_ACCEPTED
    late = schedule(expiry.at, expiry.at + timedelta(days=3))
    state, _ = run([late, CompleteReturn(at=expiry.at + timedelta(days=3))], state)
    assert state.status is Status.RETURNED_IN_ERROR and state.overdue == ()


@pytest.mark.parametrize(
    ("state", "command"),
    [
        (transferred, AcceptErrorClaim(at=CLAIM_AT)),
        (transferred, DisputeErrorClaim(at=CLAIM_AT, reasons=("x",))),
        (transferred, schedule(CLAIM_AT, CLAIM_AT + timedelta(days=3))),
        (claimed, schedule(ACCEPT_AT, ACCEPT_AT + timedelta(days=3))),
        (error_accepted, CompleteReturn(at=ACCEPT_AT)),
        (error_accepted, AcceptErrorClaim(at=ACCEPT_AT)),
        (claimed, CloseCase(at=ACCEPT_AT)),
        (claimed, WithdrawCase(at=ACCEPT_AT, reasons=("x",))),
        (error_accepted, ClaimReadmissionInError(at=ACCEPT_AT, reasons=("again",))),
    ],
)
def test_each_step_only_in_its_status(state: Any, command: Any) -> None:
    refuses(command, state(), WrongStatus)


def test_nothing_after_closing() -> None:
    state, _ = run(
        [
            CompleteReturn(at=at("2027-03-20T09:30:00+02:00")),
            CloseCase(at=at("2027-03-21T09:00:00+02:00")),
        ],
        return_scheduled(),
    )
    refuses(
        schedule(at("2027-03-22T09:00:00+02:00"), at("2027-03-23T09:00:00+02:00")),
        state,
        CaseClosedError,
    )
