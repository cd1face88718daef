"""Decider tables for transit cases: given the events of earlier commands, when a command, then
events or an error (consent, refusal, silence under both rules, lead times, failed transit and
taking back)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from factories import at, open_case, run
from transit_factories import (
    OPENED,
    PLANNED,
    REPLY_DUE,
    SUBMITTED,
    open_transit,
    request,
    transit_terms,
)

from domain.actions import expected_actions, waiting_for
from domain.agreements import OnExpiry
from domain.alarms import ReminderPolicy, plan_reminders
from domain.commands import (
    AcceptApplication,
    CloseCase,
    Command,
    CompleteTransit,
    ConfirmReceipt,
    ConsentTransit,
    ExpireLimit,
    RecordEscalation,
    RefuseTransit,
    ReportTransitFailure,
    ScheduleTransit,
    SubmitApplication,
    TakeBack,
    WithdrawCase,
)
from domain.decider import decide, execute, validate
from domain.errors import (
    DomainError,
    ReasonsRequired,
    ReplyDeadlinePassed,
    TransitLeadTooShort,
    TransitNotAllowed,
    TransitNotProvided,
    TransitRequestInvalid,
    WrongCaseKind,
    WrongStatus,
)
from domain.events import CaseOpened, DeadlineSet, dump_event
from domain.state import CaseState
from domain.values import CaseKind, EscalationLevel, Side, Status

EXPIRY = REPLY_DUE + timedelta(seconds=1)


def opened(**overrides: Any) -> CaseState:
    return run([open_transit(**overrides)])[0]


def received(**rules: Any) -> CaseState:
    opening = open_transit(terms=transit_terms(**rules)) if rules else open_transit()
    return run([opening, SubmitApplication(at=SUBMITTED)])[0]


def consented() -> CaseState:
    return run([ConsentTransit(at=SUBMITTED + timedelta(hours=5))], received())[0]


def scheduled() -> CaseState:
    plan = ScheduleTransit(
        at=SUBMITTED + timedelta(days=1),
        on=PLANNED,
        entry_point="Chișinău International Airport",
        exit_point="Chișinău International Airport",
        escorts=2,
        flight={"number": "9U 171"},
    )
    return run([plan], consented())[0]


def transited() -> CaseState:
    return run([CompleteTransit(at=PLANNED + timedelta(hours=3))], scheduled())[0]


def failed() -> CaseState:
    failure = ReportTransitFailure(
        at=PLANNED + timedelta(hours=6), reasons=("GE refused entry",), entry_refused=True
    )
    return run([failure], transited())[0]


def types(command: Command, state: CaseState) -> list[str]:
    return [e.type for e in decide(command, state)]


def refuses(command: Command, state: CaseState, error: type[DomainError]) -> DomainError:
    with pytest.raises(error) as info:
        decide(command, state)
    with pytest.raises(error):
        validate(command, state)
    return info.value


# --- opening ----------------------------------------------------------------------------------


def test_a_transit_case_opens_with_its_request_and_no_submission_window() -> None:
    state, events = run([open_transit()])
    assert [e.type for e in events] == ["CaseOpened"]
    assert state.kind is CaseKind.TRANSIT and state.status is Status.DRAFT
    assert state.transit == request() and state.open_limits == ()


def test_a_readmission_case_is_stored_as_before_without_kind_or_request() -> None:
    event = decide(open_case(), CaseState())[0]
    assert isinstance(event, CaseOpened)
    stored = dump_event(event)
    assert "kind" not in stored and "transit" not in stored
    transit = dump_event(decide(open_transit(), CaseState())[0])
    assert transit["kind"] == "transit" and transit["transit"]["destination"] == "GE"


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"category": "own_national"}, "not for a national of the requested state"),
        ({"transit": None}, "needs its request"),
        ({"transit": request(destination="MD")}, "a third state"),
        ({"transit": request(destination="AT")}, "a third state"),
        ({"transit": request(planned_at=OPENED - timedelta(hours=1))}, "lies in the past"),
    ],
)
def test_an_invalid_transit_request_is_refused_422(overrides: dict[str, Any], says: str) -> None:
    error = refuses(open_transit(**overrides), CaseState(), TransitRequestInvalid)
    assert says in error.message and error.http_status == 422


def test_a_stateless_person_may_transit_as_anyone_not_an_own_national() -> None:
    # any category but own_national (another helper adds `stateless`); TCN here
    assert opened(category="third_country_national").kind is CaseKind.TRANSIT


def test_a_readmission_case_carries_no_transit_request() -> None:
    error = refuses(open_case(transit=request()), CaseState(), TransitRequestInvalid)
    assert "no transit request" in error.message


def test_terms_without_a_transit_reply_limit_run_no_transit() -> None:
    terms = transit_terms()
    limits = {k: v for k, v in terms.limits.items() if k != "transit_reply"}
    bare = terms.model_copy(update={"limits": limits})
    error = refuses(open_transit(terms=bare), CaseState(), TransitNotProvided)
    assert error.http_status == 409


def test_each_kind_takes_its_own_commands() -> None:
    refuses(AcceptApplication(at=SUBMITTED + timedelta(hours=1)), received(), WrongCaseKind)
    readmission = run([open_case(at=OPENED)])[0]
    refuses(ConsentTransit(at=OPENED + timedelta(hours=1)), readmission, WrongCaseKind)


# --- lead times -------------------------------------------------------------------------------


def test_submitting_delivers_and_sets_the_reply_deadline_cut_to_48_hours_before() -> None:
    state, events = run([SubmitApplication(at=SUBMITTED)], opened())
    assert [e.type for e in events] == [
        "ApplicationSubmitted",
        "ApplicationDelivered",
        "DeadlineSet",
    ]
    assert state.status is Status.RECEIVED and state.received_at == SUBMITTED
    deadline = state.deadlines["transit_reply"]
    assert deadline.due == REPLY_DUE  # not Fri 5 Feb 23:59:59, the 4th working day
    assert "48 hours before the planned transit" in deadline.rule
    assert "4th working day after the receipt day" in deadline.rule
    assert deadline.on_expiry is OnExpiry.ESCALATE


def test_without_a_reply_lead_the_reply_limit_runs_its_working_days() -> None:
    state = received(reply_lead_hours=None)
    assert state.deadlines["transit_reply"].due == at("2027-02-05T23:59:59+02:00")


def test_a_request_under_4_working_days_ahead_is_refused_422_with_the_rule() -> None:
    # Tuesday 2 Feb for Friday 5 Feb: the earliest transit day is Monday 8 Feb
    error = refuses(
        SubmitApplication(at=at("2027-02-02T09:00:00+02:00")), opened(), TransitLeadTooShort
    )
    assert error.http_status == 422
    assert "2027-02-08" in error.message
    assert "at least 4 working days before the planned transit (test protocol" in error.rule


def test_the_weekend_before_a_transit_does_not_count_as_working_days() -> None:
    # Friday 5 Feb 2027 for Tuesday 9 Feb: only Mon and Tue are working days in between
    late = open_transit(transit=request(planned_at=at("2027-02-09T10:00:00+02:00")))
    state = run([late])[0]
    refuses(SubmitApplication(at=at("2027-02-05T09:00:00+02:00")), state, TransitLeadTooShort)
    # Wednesday 3 Feb for Tuesday 9 Feb: Thu, Fri, Mon, Tue
    assert types(SubmitApplication(at=at("2027-02-03T09:00:00+02:00")), state)[0] == (
        "ApplicationSubmitted"
    )


def test_a_lead_of_hours_is_counted_in_hours() -> None:
    terms = transit_terms(request_lead_working_days=None, request_lead_hours=72)
    state = run([open_transit(terms=terms)])[0]
    error = refuses(SubmitApplication(at=PLANNED - timedelta(hours=71)), state, TransitLeadTooShort)
    assert "at least 72 hours before the planned transit" in error.rule
    assert types(SubmitApplication(at=PLANNED - timedelta(hours=72)), state)[0] == (
        "ApplicationSubmitted"
    )


def test_a_request_too_late_for_the_reply_lead_is_refused() -> None:
    terms = transit_terms(request_lead_working_days=None)
    state = run([open_transit(terms=terms)])[0]
    error = refuses(SubmitApplication(at=PLANNED - timedelta(hours=47)), state, TransitLeadTooShort)
    assert "at least 48 hours before the planned transit" in error.rule


def test_a_transit_on_a_weekend_asks_the_reply_72_hours_before() -> None:
    saturday = at("2027-02-06T10:00:00+02:00")
    terms = transit_terms(weekend_reply_lead_hours=72)
    state = run(
        [open_transit(terms=terms, transit=request(planned_at=saturday))],
    )[0]
    after = run([SubmitApplication(at=SUBMITTED)], state)[0]
    deadline = after.deadlines["transit_reply"]
    assert deadline.due == saturday - timedelta(hours=72)
    assert "72 hours before the planned transit" in deadline.rule
    assert "weekend day or public holiday" in deadline.rule
    assert run(
        [SubmitApplication(at=SUBMITTED)],
        run([open_transit(transit=request(planned_at=saturday))])[0],
    )[0].deadlines["transit_reply"].due == saturday - timedelta(hours=48)
    # on a working day the 48 hours apply
    weekday = run([SubmitApplication(at=SUBMITTED)], opened(terms=terms))[0]
    assert weekday.deadlines["transit_reply"].due == REPLY_DUE


# --- replies ----------------------------------------------------------------------------------


def test_consent_closes_the_reply_limit() -> None:
    state, events = run([ConsentTransit(at=SUBMITTED + timedelta(hours=5), note="ok")], received())
    assert [e.type for e in events] == ["TransitConsented"]
    assert state.status is Status.CONSENTED and state.open_limits == ()


def test_a_refusal_states_its_reasons_and_ends_the_transit() -> None:
    refuses(RefuseTransit(at=SUBMITTED, reasons=()), received(), ReasonsRequired)
    state = run([RefuseTransit(at=SUBMITTED, reasons=("no assurance",))], received())[0]
    assert state.status is Status.REFUSED and state.refusal_reasons == ("no assurance",)
    refuses(ConsentTransit(at=SUBMITTED + timedelta(hours=1)), state, WrongStatus)
    assert types(CloseCase(at=SUBMITTED + timedelta(hours=1)), state) == ["CaseClosed"]


def test_silence_is_consent_where_the_terms_say_so() -> None:
    state = received(silence_is_consent=True)
    assert state.deadlines["transit_reply"].on_expiry is OnExpiry.DEEMED_CONSENTED
    after, events = run([ExpireLimit(at=EXPIRY, limit="transit_reply")], state)
    assert [e.type for e in events] == ["DeadlineEscalated", "TransitDeemedConsented"]
    assert after.status is Status.DEEMED_CONSENTED and after.open_limits == ()
    refuses(ConsentTransit(at=EXPIRY), after, WrongStatus)


def test_a_late_reply_is_refused_once_silence_was_consent() -> None:
    # the timer has not fired yet: the consequence applies all the same
    refuses(ConsentTransit(at=EXPIRY), received(silence_is_consent=True), ReplyDeadlinePassed)


def test_otherwise_silence_escalates_and_a_late_reply_is_still_taken() -> None:
    state = received()
    after, events = run([ExpireLimit(at=EXPIRY, limit="transit_reply")], state)
    assert [e.type for e in events] == ["DeadlineEscalated"]
    assert after.status is Status.RECEIVED and after.overdue == ("transit_reply",)
    late, _ = run([ConsentTransit(at=EXPIRY + timedelta(hours=2))], after)
    assert late.status is Status.CONSENTED and late.overdue == ()


def test_the_reply_limit_gets_reminders_before_its_cut_due_instant() -> None:
    deadline = received().deadlines["transit_reply"]
    alarms = plan_reminders(deadline, ReminderPolicy())
    assert alarms and all(SUBMITTED < a.at < REPLY_DUE for a in alarms)
    state = run(
        [RecordEscalation(at=alarms[0].at, limit="transit_reply", level=alarms[0].level)],
        received(),
    )[0]
    assert state.escalations[0].level is alarms[0].level
    assert {a.level for a in alarms} >= {EscalationLevel.REMINDER_HALF}


# --- schedule, completion, failure, taking back -----------------------------------------------


def test_the_transit_is_never_brought_forward_of_the_instant_consented_to() -> None:
    early = ScheduleTransit(
        at=SUBMITTED + timedelta(days=1),
        on=PLANNED - timedelta(hours=1),
        entry_point="KIV",
        exit_point="KIV",
    )
    refuses(early, consented(), TransitNotAllowed)
    later = early.model_copy(update={"on": PLANNED + timedelta(days=2)})
    state = run([later], consented())[0]
    assert state.status is Status.TRANSIT_SCHEDULED
    assert state.transit_plan is not None and state.transit_plan.on == PLANNED + timedelta(days=2)


def test_a_transit_is_scheduled_only_after_consent() -> None:
    plan = ScheduleTransit(at=SUBMITTED, on=PLANNED, entry_point="KIV", exit_point="KIV")
    refuses(plan, received(), WrongStatus)


def test_a_transit_is_done_no_earlier_than_scheduled() -> None:
    refuses(CompleteTransit(at=PLANNED - timedelta(hours=1)), scheduled(), TransitNotAllowed)
    state = transited()
    assert state.status is Status.TRANSITED and state.transited_at == PLANNED + timedelta(hours=3)
    assert types(CloseCase(at=PLANNED + timedelta(days=1)), state) == ["CaseClosed"]


def test_a_transit_may_be_done_on_consent_alone() -> None:
    state = run([CompleteTransit(at=PLANNED)], consented())[0]
    assert state.status is Status.TRANSITED


def test_a_failed_transit_is_taken_back_before_the_case_closes() -> None:
    state = failed()
    assert state.status is Status.TRANSIT_FAILED and state.entry_refused
    assert state.transit_failure_reasons == ("GE refused entry",)
    later = PLANNED + timedelta(days=1)
    refuses(CloseCase(at=later), state, WrongStatus)
    refuses(WithdrawCase(at=later, reasons=("x",)), state, WrongStatus)
    back, events = run([TakeBack(at=later, note="flight OS 656")], state)
    assert [e.type for e in events] == ["PersonTakenBack"]
    assert back.status is Status.TAKEN_BACK and back.taken_back_at == later
    refuses(ConsentTransit(at=later), back, WrongStatus)
    closed = run([CloseCase(at=later + timedelta(hours=1))], back)[0]
    assert closed.status is Status.CLOSED


def test_a_transit_that_fails_on_the_way_is_taken_back_too() -> None:
    failure = ReportTransitFailure(at=PLANNED + timedelta(hours=1), reasons=("flight cancelled",))
    refuses(failure.model_copy(update={"reasons": ()}), scheduled(), ReasonsRequired)
    state = run([failure], scheduled())[0]
    assert state.status is Status.TRANSIT_FAILED and not state.entry_refused
    refuses(failure, received(), WrongStatus)


def test_a_transit_case_may_be_withdrawn_while_active() -> None:
    state = run([WithdrawCase(at=SUBMITTED, reasons=("person absconded",))], received())[0]
    assert state.status is Status.WITHDRAWN


def test_receipt_is_acknowledged_once() -> None:
    state = run([ConfirmReceipt(at=SUBMITTED + timedelta(minutes=5))], received())[0]
    assert state.acknowledged_at is not None and state.status is Status.RECEIVED


# --- what the case waits for, and who hears of it ---------------------------------------------


@pytest.mark.parametrize(
    ("make", "first"),
    [
        (opened, (Side.REQUESTING, "submit")),
        (received, (Side.REQUESTED, "consent_transit")),
        (consented, (Side.REQUESTING, "schedule_transit")),
        (scheduled, (Side.REQUESTED, "complete_transit")),
        (transited, (Side.REQUESTING, "close")),
        (failed, (Side.REQUESTING, "take_back")),
    ],
)
def test_each_status_waits_for_its_transit_command(make: Any, first: tuple[Side, str]) -> None:
    state = make()
    assert expected_actions(state)[0] == first
    assert waiting_for(state) is first[0]
    assert all(name not in {"accept", "refuse"} for _, name in expected_actions(state))


def test_the_requested_state_hears_of_a_new_transit_request() -> None:
    decision = execute(SubmitApplication(at=SUBMITTED), opened(), iter_ids())
    subjects = [n.subject for n in decision.notices]
    assert any(s.endswith("New transit request") for s in subjects)
    assert decision.notices[0].state == "MD"


def test_a_failed_transit_tells_the_requesting_supervisor() -> None:
    failure = ReportTransitFailure(at=PLANNED + timedelta(hours=4), reasons=("entry refused",))
    decision = execute(failure, transited(), iter_ids())
    (notice,) = decision.notices
    assert (notice.state, notice.role) == ("AT", "supervisor")


def test_deadline_set_records_the_cut_deadline() -> None:
    events = decide(SubmitApplication(at=SUBMITTED), opened())
    (deadline,) = [e.deadline for e in events if isinstance(e, DeadlineSet)]
    assert deadline.limit == "transit_reply" and deadline.due == REPLY_DUE


def iter_ids() -> Any:
    from uuid import UUID

    counter = iter(range(1, 100))
    return lambda: UUID(int=next(counter))
