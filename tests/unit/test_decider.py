"""Decider tables: given the events of earlier commands, when a command, then events or an error."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from factories import T0, at, open_case, passport, run, terms
from pydantic import ValidationError

from domain.agreements import Extension
from domain.commands import (
    AcceptApplication,
    AddEvidence,
    ClaimReadmissionInError,
    CloseCase,
    Command,
    CompleteTransfer,
    ConfirmReceipt,
    ExpireLimit,
    ExtendReplyLimit,
    ExtendTransferLimit,
    RecordEscalation,
    RecordVerification,
    RefuseApplication,
    ScheduleTransfer,
    SubmitApplication,
    WithdrawCase,
)
from domain.decider import decide, validate
from domain.errors import (
    AcceleratedNotAllowed,
    AgreementNotInForce,
    AgreementSuspended,
    AlreadyRecorded,
    CaseAlreadyOpened,
    CaseClosedError,
    DomainError,
    ErrorClaimWindowClosed,
    ExtensionNotAllowed,
    InvalidCommand,
    LimitNotExpired,
    ReasonsRequired,
    ReplyDeadlinePassed,
    SubmissionWindowClosed,
    TcnObligationsNotStarted,
    TransferNotAllowed,
    WrongStatus,
)
from domain.state import CaseState, is_terminal
from domain.values import (
    EscalationLevel,
    EvidenceItem,
    Grade,
    Status,
    VerificationOutcome,
    VerificationStatus,
)

# submitting delivers: the receipt's instant (Kyiv: day 0 is 5 Jan, reply due 19 Jan)
SUBMIT_AT = at("2027-01-05T12:00:00+02:00")
RECEIPT_AT = SUBMIT_AT
REPLY_DUE = at("2027-01-19T23:59:59+02:00")
ACCEPT_AT = at("2027-01-10T09:00:00+02:00")  # transfer due 10 Apr 2027 (Kyiv, 3 months)
TRANSFER_DUE = at("2027-04-10T23:59:59+03:00")


def opened(**overrides: Any) -> CaseState:
    return run([open_case(**overrides)])[0]


def submitted() -> CaseState:
    return run([open_case(), SubmitApplication(at=SUBMIT_AT)])[0]


def received() -> CaseState:
    """Submitted, delivered, and acknowledged by an officer of the requested state."""
    return run([ConfirmReceipt(at=RECEIPT_AT)], submitted())[0]


def accepted() -> CaseState:
    return run([AcceptApplication(at=ACCEPT_AT)], received())[0]


def scheduled() -> CaseState:
    plan = ScheduleTransfer(
        at=at("2027-02-01T09:00:00+01:00"),
        on=at("2027-02-15T08:00:00+01:00"),
        bcp="Medyka-Shehyni",
        mode="land",
        escorts=2,
    )
    return run([plan], accepted())[0]


def transferred() -> CaseState:
    return run([CompleteTransfer(at=at("2027-02-15T10:00:00+01:00"))], scheduled())[0]


def refused() -> CaseState:
    return run([RefuseApplication(at=ACCEPT_AT, reasons=("not a national",))], received())[0]


def types(command: Command, state: CaseState) -> list[str]:
    return [e.type for e in decide(command, state)]


def refuses(command: Command, state: CaseState, error: type[DomainError]) -> DomainError:
    with pytest.raises(error) as info:
        decide(command, state)
    # the validator (used by the workflow before anything is recorded) agrees with decide
    with pytest.raises(error):
        validate(command, state)
    return info.value


def test_happy_path_to_closed() -> None:
    state, events = run(
        [
            open_case(),
            SubmitApplication(at=SUBMIT_AT),
            ConfirmReceipt(at=RECEIPT_AT),
            RecordVerification(
                at=RECEIPT_AT + timedelta(hours=1),
                outcome=VerificationOutcome(status=VerificationStatus.CONFIRMED, score=0.97),
            ),
            AcceptApplication(at=ACCEPT_AT),
            ScheduleTransfer(
                at=ACCEPT_AT + timedelta(days=1),
                on=ACCEPT_AT + timedelta(days=10),
                bcp="medyka-shehyni",
                mode="land",
            ),
            CompleteTransfer(at=ACCEPT_AT + timedelta(days=10)),
            CloseCase(at=ACCEPT_AT + timedelta(days=11)),
        ]
    )
    assert [e.type for e in events] == [
        "CaseOpened",
        "DeadlineSet",
        "ApplicationSubmitted",
        "ApplicationDelivered",
        "DeadlineSet",
        "ReceiptAcknowledged",
        "VerificationRecorded",
        "ApplicationAccepted",
        "DeadlineSet",
        "TransferScheduled",
        "TransferCompleted",
        "DeadlineSet",
        "CaseClosed",
    ]
    assert state.status is Status.CLOSED and is_terminal(state)
    assert state.version == len(events)
    assert state.open_limits == ()


# --- open -----------------------------------------------------------------------------------


def test_open_sets_submission_deadline_from_knowledge() -> None:
    state = opened()
    assert state.status is Status.DRAFT
    assert state.deadlines["submission"].due == at("2028-01-02T23:59:59+02:00")
    assert state.open_limits == ("submission",)
    assert state.evidence[0].grade is Grade.PROOF


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"terms": terms(in_force=date(2030, 1, 1))}, AgreementNotInForce),
        (
            {"terms": terms(suspensions=({"from": date(2021, 10, 14), "by": "BY"},))},
            AgreementSuspended,
        ),
        ({"knowledge_at": None}, InvalidCommand),
        ({"knowledge_at": T0 + timedelta(hours=1)}, InvalidCommand),
        ({"procedure": "accelerated"}, AcceleratedNotAllowed),
        (
            {
                "procedure": "accelerated",
                "apprehended_at": T0 - timedelta(hours=3),
                "apprehension_place": {"kind": "land_border", "km_from_border": 45},
            },
            AcceleratedNotAllowed,
        ),
        (
            {
                "procedure": "accelerated",
                "apprehended_at": T0 - timedelta(hours=3),
                "apprehension_place": {"kind": "inland"},
            },
            AcceleratedNotAllowed,
        ),
    ],
)
def test_open_refused(overrides: dict[str, Any], error: type[DomainError]) -> None:
    refuses(open_case(**overrides), CaseState(), error)


def test_open_twice_refused() -> None:
    refuses(open_case(), opened(), CaseAlreadyOpened)


def test_accelerated_in_border_region_counts_working_days_of_requesting_state() -> None:
    # Apprehended Friday 30 Apr 2027 near the border: 2 PL working days -> Tue 4 May
    # (1 May and 3 May are Polish public holidays, 2 May a Sunday).
    state = opened(
        procedure="accelerated",
        at=at("2027-04-30T20:00:00+02:00"),
        knowledge_at=None,
        apprehended_at=at("2027-04-30T18:00:00+02:00"),
        apprehension_place={"kind": "land_border", "km_from_border": 12.5},
    )
    deadline = state.deadlines["accelerated_submission"]
    assert deadline.calendar == "PL"
    assert deadline.due == at("2027-05-05T23:59:59+02:00")
    late = SubmitApplication(at=at("2027-05-06T08:00:00+02:00"))
    refuses(late, state, SubmissionWindowClosed)
    submitted, events = run([SubmitApplication(at=at("2027-05-05T23:00:00+02:00"))], state)
    assert [e.type for e in events] == [
        "ApplicationSubmitted",
        "ApplicationDelivered",
        "DeadlineSet",
    ]
    reply = submitted.deadlines["accelerated_reply"]  # from delivery, in UA working days
    assert reply.triggered_at == at("2027-05-05T23:00:00+02:00") and reply.calendar == "UA"


def test_accelerated_airport_allowed() -> None:
    state = opened(
        procedure="accelerated",
        apprehended_at=T0 - timedelta(hours=1),
        apprehension_place={"kind": "international_airport", "name": "Warsaw Chopin"},
    )
    assert "accelerated_submission" in state.open_limits


# --- evidence and submission ----------------------------------------------------------------


def test_add_evidence_grades_items_and_verification_need() -> None:
    state = opened(evidence=(EvidenceItem(kind="passport_copy"),))
    assert state.verification_needed
    state, events = run([AddEvidence(at=T0, items=(passport(),))], state)
    assert events[0].type == "EvidenceAdded"
    assert [g.grade for g in state.evidence] == [Grade.PRIMA_FACIE, Grade.PROOF]
    assert not state.verification_needed


def test_tcn_evidence_graded_by_tcn_annex() -> None:
    state = opened(
        category="third_country_national",
        evidence=(EvidenceItem(kind="visa"), EvidenceItem(kind="passport")),
    )
    assert [g.grade for g in state.evidence] == [Grade.PROOF, Grade.PRIMA_FACIE]


def test_add_evidence_refused_after_reply() -> None:
    refuses(AddEvidence(at=ACCEPT_AT, items=(passport(),)), accepted(), WrongStatus)


def test_submit_delivers_closes_the_submission_limit_and_starts_the_reply_limit() -> None:
    state, events = run([SubmitApplication(at=SUBMIT_AT)], opened())
    assert [e.type for e in events] == [
        "ApplicationSubmitted",
        "ApplicationDelivered",
        "DeadlineSet",
    ]
    assert state.status is Status.RECEIVED and state.submitted_at == SUBMIT_AT
    assert state.received_at == SUBMIT_AT and state.acknowledged_at is None
    assert state.open_limits == ("reply",)
    assert state.deadlines["reply"].triggered_at == SUBMIT_AT


def test_submit_after_window_refused() -> None:
    state = opened(knowledge_at=at("2025-12-01T09:00:00+01:00"))
    error = refuses(SubmitApplication(at=SUBMIT_AT), state, SubmissionWindowClosed)
    assert "2026-12-01" in error.message


def test_submit_tcn_before_obligations_refused() -> None:
    state = opened(
        category="third_country_national", terms=terms(tcn_obligations_from=date(2028, 1, 1))
    )
    refuses(SubmitApplication(at=SUBMIT_AT), state, TcnObligationsNotStarted)


def test_submit_under_agreement_suspended_after_opening_refused() -> None:
    state = opened(
        terms=terms(suspensions=({"from": date(2027, 1, 4), "by": "UA"},)),
        at=at("2027-01-03T10:00:00+01:00"),
    )
    refuses(SubmitApplication(at=SUBMIT_AT), state, AgreementSuspended)


def test_submit_without_evidence_refused() -> None:
    refuses(SubmitApplication(at=SUBMIT_AT), opened(evidence=()), InvalidCommand)


def test_submit_twice_refused() -> None:
    refuses(SubmitApplication(at=SUBMIT_AT), submitted(), WrongStatus)


def test_command_before_last_event_refused() -> None:
    refuses(ConfirmReceipt(at=SUBMIT_AT - timedelta(minutes=1)), submitted(), InvalidCommand)


def test_lapsed_submission_window() -> None:
    state = opened()
    refuses(ExpireLimit(at=T0 + timedelta(days=30), limit="submission"), state, LimitNotExpired)
    state, events = run(
        [ExpireLimit(at=at("2028-01-03T00:00:00+02:00"), limit="submission")], state
    )
    assert [e.type for e in events] == ["DeadlineEscalated", "LimitLapsed"]
    assert state.status is Status.LAPSED
    refuses(SubmitApplication(at=at("2028-01-04T00:00:00+02:00")), state, WrongStatus)
    assert types(CloseCase(at=at("2028-01-04T00:00:00+02:00")), state) == ["CaseClosed"]


# --- receipt, verification, reply -----------------------------------------------------------


def test_delivery_starts_reply_limit_in_requested_state() -> None:
    state = submitted()
    reply = state.deadlines["reply"]
    assert state.status is Status.RECEIVED
    assert reply.due == REPLY_DUE and reply.time_zone == "Europe/Kyiv"
    assert state.next_deadline == reply


def test_acknowledging_receipt_is_recorded_once_and_moves_no_deadline() -> None:
    before = submitted()
    later = RECEIPT_AT + timedelta(days=5)
    state, events = run([ConfirmReceipt(at=later)], before)
    assert [e.type for e in events] == ["ReceiptAcknowledged"]
    assert state.acknowledged_at == later and state.received_at == RECEIPT_AT
    assert state.deadlines == before.deadlines and state.open_limits == before.open_limits
    error = refuses(ConfirmReceipt(at=later), state, AlreadyRecorded)
    assert "already acknowledged" in error.message and error.http_status == 409
    # possible until the reply, once; never once the case's outcome is final
    accepted_unacknowledged = run([AcceptApplication(at=ACCEPT_AT)], before)[0]
    assert types(ConfirmReceipt(at=ACCEPT_AT), accepted_unacknowledged) == ["ReceiptAcknowledged"]
    refuses(ConfirmReceipt(at=ACCEPT_AT), refused(), WrongStatus)


def test_receipt_refused_before_submission() -> None:
    refuses(ConfirmReceipt(at=T0), opened(), WrongStatus)


def test_verification_recorded_and_refused_before_receipt() -> None:
    outcome = VerificationOutcome(
        status=VerificationStatus.INCONCLUSIVE, score=0.4, interview_needed=True
    )
    state, _ = run([RecordVerification(at=RECEIPT_AT, outcome=outcome)], received())
    assert state.verification == outcome and state.interview_needed
    refuses(RecordVerification(at=SUBMIT_AT, outcome=outcome), opened(), WrongStatus)


def test_extend_reply_once_moves_deadline() -> None:
    command = ExtendReplyLimit(at=RECEIPT_AT + timedelta(days=3), reasons=("registry offline",))
    state, events = run([command], received())
    assert [e.type for e in events] == ["ReplyLimitExtended", "DeadlineSet"]
    assert state.deadlines["reply"].due == at("2027-03-06T23:59:59+02:00")
    assert state.deadlines["reply"].extended
    refuses(
        command.model_copy(update={"at": command.at + timedelta(days=1)}),
        state,
        ExtensionNotAllowed,
    )


def test_extend_reply_refusals() -> None:
    state = received()
    refuses(ExtendReplyLimit(at=RECEIPT_AT, reasons=()), state, ReasonsRequired)
    with pytest.raises(ValidationError):  # a blank reason is not a reason
        ExtendReplyLimit(at=RECEIPT_AT, reasons=("  ",))
    late = ExtendReplyLimit(at=REPLY_DUE + timedelta(seconds=1), reasons=("late",))
    refuses(late, state, ReplyDeadlinePassed)
    limits = dict(terms().limits)
    limits["reply"] = limits["reply"].model_copy(update={"extension": None})
    no_ext = run(
        [
            open_case(terms=terms(limits=limits)),
            SubmitApplication(at=SUBMIT_AT),
            ConfirmReceipt(at=RECEIPT_AT),
        ]
    )[0]
    refuses(ExtendReplyLimit(at=RECEIPT_AT, reasons=("x",)), no_ext, ExtensionNotAllowed)


def test_accept_sets_transfer_limit() -> None:
    state = accepted()
    assert state.status is Status.ACCEPTED and state.replied_at == ACCEPT_AT
    assert state.deadlines["transfer"].due == TRANSFER_DUE
    assert state.open_limits == ("transfer",)


@pytest.mark.parametrize(
    "command",
    [
        AcceptApplication(at=REPLY_DUE + timedelta(seconds=1)),
        RefuseApplication(at=REPLY_DUE + timedelta(seconds=1), reasons=("x",)),
    ],
)
def test_reply_after_deadline_refused(command: Command) -> None:
    refuses(command, received(), ReplyDeadlinePassed)


def test_reply_on_the_last_second_accepted() -> None:
    assert types(AcceptApplication(at=REPLY_DUE), received())[0] == "ApplicationAccepted"


def test_refusal_needs_reasons() -> None:
    refuses(RefuseApplication(at=ACCEPT_AT, reasons=()), received(), ReasonsRequired)
    state = refused()
    assert state.status is Status.REFUSED and state.refusal_reasons == ("not a national",)


def test_final_outcome_allows_only_closing() -> None:
    state = refused()
    error = refuses(AcceptApplication(at=ACCEPT_AT), state, WrongStatus)
    assert "final" in error.message
    refuses(WithdrawCase(at=ACCEPT_AT, reasons=("x",)), state, WrongStatus)
    closed, _ = run([CloseCase(at=ACCEPT_AT)], state)
    assert closed.status is Status.CLOSED
    refuses(CloseCase(at=ACCEPT_AT), closed, CaseClosedError)
    refuses(AddEvidence(at=ACCEPT_AT, items=(passport(),)), closed, CaseClosedError)


# --- time-driven ----------------------------------------------------------------------------


def test_silence_until_reply_deadline_is_deemed_acceptance() -> None:
    state = received()
    refuses(ExpireLimit(at=REPLY_DUE, limit="reply"), state, LimitNotExpired)
    expiry = ExpireLimit(at=REPLY_DUE + timedelta(seconds=1), limit="reply")
    state, events = run([expiry], state)
    assert [e.type for e in events] == ["DeadlineEscalated", "DeemedAccepted", "DeadlineSet"]
    assert state.status is Status.DEEMED_ACCEPTED
    assert state.deadlines["transfer"].triggered_at == expiry.at
    assert "reply" not in state.open_limits and state.overdue == ()
    refuses(expiry, state, WrongStatus)


def test_transfer_limit_passing_escalates_and_flags_overdue() -> None:
    state = accepted()
    expiry = ExpireLimit(at=TRANSFER_DUE + timedelta(seconds=1), limit="transfer")
    state, events = run([expiry], state)
    assert [e.type for e in events] == ["DeadlineEscalated"]
    assert state.overdue == ("transfer",) and state.status is Status.ACCEPTED
    refuses(
        expiry.model_copy(update={"at": expiry.at + timedelta(hours=1)}), state, LimitNotExpired
    )
    late_plan = ScheduleTransfer(
        at=expiry.at, on=expiry.at + timedelta(days=2), bcp="Medyka-Shehyni", mode="land"
    )
    refuses(late_plan, state, TransferNotAllowed)
    # an obstacle extension re-opens the limit and clears the overdue flag
    extension = ExtendTransferLimit(at=expiry.at, days=30, reasons=("no flights",))
    state, events = run([extension], state)
    assert [e.type for e in events] == ["TransferLimitExtended", "DeadlineSet"]
    assert state.deadlines["transfer"].due == TRANSFER_DUE + timedelta(days=30)
    assert state.overdue == ()
    assert types(late_plan, state) == ["TransferScheduled"]


def test_reminders_are_recorded_once_per_deadline() -> None:
    state = received()
    reminder = RecordEscalation(
        at=RECEIPT_AT + timedelta(days=7), limit="reply", level=EscalationLevel.REMINDER_HALF
    )
    state, events = run([reminder], state)
    assert events[0].type == "DeadlineEscalated" and events[0].due == REPLY_DUE
    refuses(reminder, state, InvalidCommand)
    refuses(reminder.model_copy(update={"limit": "transfer"}), state, WrongStatus)
    # after an extension the same level may be recorded for the new deadline
    state, _ = run([ExtendReplyLimit(at=reminder.at, reasons=("obstacle",))], state)
    assert types(reminder, state) == ["DeadlineEscalated"]


# --- transfer -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"bcp": "Nowhere"}, InvalidCommand),
        ({"mode": "sea"}, InvalidCommand),
        ({"on": at("2027-05-01T08:00:00+02:00")}, TransferNotAllowed),
        ({"on": at("2027-01-20T08:00:00+01:00")}, InvalidCommand),
    ],
)
def test_schedule_transfer_refusals(changes: dict[str, Any], error: type[DomainError]) -> None:
    base = ScheduleTransfer(
        at=at("2027-02-01T09:00:00+01:00"),
        on=at("2027-02-15T08:00:00+01:00"),
        bcp="Medyka-Shehyni",
        mode="land",
    )
    refuses(base.model_copy(update=changes), accepted(), error)


def test_schedule_transfer_before_acceptance_refused() -> None:
    command = ScheduleTransfer(
        at=ACCEPT_AT, on=ACCEPT_AT + timedelta(days=3), bcp="Medyka-Shehyni", mode="land"
    )
    refuses(command, received(), WrongStatus)


def test_complete_transfer_opens_error_window() -> None:
    state = transferred()
    assert state.status is Status.TRANSFERRED
    assert state.deadlines["readmission_in_error"].due == at("2027-05-15T23:59:59+03:00")
    refuses(CompleteTransfer(at=ACCEPT_AT + timedelta(days=2)), accepted(), WrongStatus)
    refuses(WithdrawCase(at=at("2027-02-16T10:00:00+01:00"), reasons=("x",)), state, WrongStatus)


def test_complete_transfer_after_limit_refused() -> None:
    refuses(
        CompleteTransfer(at=TRANSFER_DUE + timedelta(minutes=1)), scheduled(), TransferNotAllowed
    )


def test_transfer_extension_needs_reasons_and_respects_cap() -> None:
    refuses(ExtendTransferLimit(at=ACCEPT_AT, days=5, reasons=()), accepted(), ReasonsRequired)
    limits = dict(terms().limits)
    limits["transfer"] = limits["transfer"].model_copy(
        update={"extension": Extension(by="obstacle", max_days=20)}
    )
    state = run(
        [
            open_case(terms=terms(limits=limits)),
            SubmitApplication(at=SUBMIT_AT),
            ConfirmReceipt(at=RECEIPT_AT),
            AcceptApplication(at=ACCEPT_AT),
            ExtendTransferLimit(at=ACCEPT_AT, days=15, reasons=("strike",)),
        ]
    )[0]
    refuses(
        ExtendTransferLimit(at=ACCEPT_AT, days=6, reasons=("strike",)), state, ExtensionNotAllowed
    )


def test_readmission_in_error_within_window_only() -> None:
    state = transferred()
    claim = ClaimReadmissionInError(at=at("2027-03-01T10:00:00+02:00"), reasons=("not a national",))
    after, events = run([claim], state)
    assert [e.type for e in events] == ["ErrorClaimed", "DeadlineSet"]  # the procedure's first step
    assert after.status is Status.ERROR_CLAIMED
    late = claim.model_copy(update={"at": at("2027-05-16T00:00:01+03:00")})
    refuses(late, state, ErrorClaimWindowClosed)
    refuses(claim, accepted(), WrongStatus)
    refuses(claim.model_copy(update={"reasons": ()}), state, ReasonsRequired)


# --- withdraw and close ---------------------------------------------------------------------


def test_withdraw_before_transfer() -> None:
    state, events = run([WithdrawCase(at=ACCEPT_AT, reasons=("left voluntarily",))], accepted())
    assert events[0].type == "CaseWithdrawn" and state.status is Status.WITHDRAWN
    assert state.open_limits == ()
    refuses(WithdrawCase(at=ACCEPT_AT, reasons=()), accepted(), ReasonsRequired)


def test_close_only_after_an_outcome() -> None:
    refuses(CloseCase(at=ACCEPT_AT), received(), WrongStatus)
    assert types(CloseCase(at=at("2027-02-16T10:00:00+01:00")), transferred()) == ["CaseClosed"]


def test_commands_before_opening_refused() -> None:
    refuses(SubmitApplication(at=T0), CaseState(), WrongStatus)
