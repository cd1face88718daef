"""Transit cases: the requesting state asks the requested state to let a third-country national
(or stateless person) pass through its territory to a destination state that has assured
admission (EU–UA Art. 13–14; the AT–MD protocol's lead times). See docs/transit.md.

The decider (`domain.decider`) dispatches here by the case's kind: the opening and submission
checks, the lead times (`check_lead_times`), the reply deadline (`reply_deadline`: the
`transit_reply` limit, cut to at least `reply_lead_hours` before the planned transit), and the
transit's own commands and events. What silence means is the terms' `[transit]
silence_is_consent`: deemed consent where it says so, otherwise the limit escalates.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import assert_never
from zoneinfo import ZoneInfo

from domain.agreements import AgreementTerms, Category, OnExpiry
from domain.calendars import is_working_day, zone_of
from domain.commands import (
    CATALOGUE,
    Command,
    CompleteTransit,
    ConsentTransit,
    OpenCase,
    RefuseTransit,
    ReportTransitFailure,
    ScheduleTransit,
    TakeBack,
)
from domain.deadlines import Deadline, deadline_for, nth_working_day_after
from domain.errors import (
    AgreementNotInForce,
    CaseAlreadyOpened,
    ReplyDeadlinePassed,
    TransitLeadTooShort,
    TransitNotAllowed,
    TransitNotProvided,
    TransitRequestInvalid,
    WrongCaseKind,
)
from domain.events import (
    Event,
    PersonTakenBack,
    TransitCompleted,
    TransitConsented,
    TransitDeemedConsented,
    TransitFailed,
    TransitRefused,
    TransitScheduled,
)
from domain.rules import check_not_suspended, check_status, local_date, require_reasons
from domain.state import CaseState
from domain.transit_request import TransitPlan, TransitRequest
from domain.values import CaseKind, Status

TRANSIT_REPLY = "transit_reply"

ACTIVE = (
    Status.DRAFT,
    Status.RECEIVED,
    Status.CONSENTED,
    Status.DEEMED_CONSENTED,
    Status.TRANSIT_SCHEDULED,
)
CLOSABLE = (Status.REFUSED, Status.WITHDRAWN, Status.TRANSITED, Status.TAKEN_BACK)
SCHEDULABLE = (Status.CONSENTED, Status.DEEMED_CONSENTED, Status.TRANSIT_SCHEDULED)
# the transit fails on the way, or the destination refuses entry once it is done
FAILABLE = (*SCHEDULABLE, Status.TRANSITED)
ACKNOWLEDGEABLE = (Status.RECEIVED, *SCHEDULABLE)

TRANSIT_ONLY = frozenset(
    {
        "consent_transit",
        "refuse_transit",
        "schedule_transit",
        "complete_transit",
        "report_transit_failure",
        "take_back",
    }
)
# what both kinds of case share; every other command belongs to readmission cases alone
SHARED = frozenset(
    {
        "open_case",
        "add_evidence",
        "submit",
        "confirm_receipt",
        "expire_limit",
        "record_escalation",
        "withdraw",
        "close",
        # a reply's approval (domain.reply_approval): a transit case's reply is drafted too
        "draft_reply",
        "approve_reply",
        "return_reply",
    }
)
READMISSION_ONLY = frozenset(kind.name for kind in CATALOGUE) - TRANSIT_ONLY - SHARED


def check_kind(command: Command, kind: CaseKind) -> None:
    """Refuse a command that belongs to the other kind of case (409)."""
    if kind is CaseKind.TRANSIT and command.command in READMISSION_ONLY:
        raise WrongCaseKind(f"{command.command} is a command of readmission cases, not of transit")
    if kind is CaseKind.READMISSION and command.command in TRANSIT_ONLY:
        raise WrongCaseKind(f"{command.command} is a command of transit cases")


# --- opening and submission -----------------------------------------------------------------


def check_opening(command: OpenCase, state: CaseState) -> TransitRequest:
    """A transit case opens with a request for a person who is not the requested state's own
    national (a third-country national or stateless person), to another destination, under
    terms that give a transit reply limit."""
    if state.opened:
        raise CaseAlreadyOpened(f"case {state.case_id} is already open")
    terms, request = command.terms, command.transit
    if request is None:
        raise TransitRequestInvalid("a transit case needs its request ('transit')")
    if command.category is Category.OWN_NATIONAL:
        raise TransitRequestInvalid(
            "a transit is requested for third-country nationals and stateless persons, "
            "not for a national of the requested state"
        )
    if request.destination in (terms.requesting, terms.requested):
        raise TransitRequestInvalid(
            f"the destination ({request.destination}) is a third state, neither "
            f"{terms.requesting} nor {terms.requested}"
        )
    if local_date(terms, command.at) < terms.in_force:
        raise AgreementNotInForce(f"{terms.agreement_id} applies from {terms.in_force.isoformat()}")
    check_not_suspended(terms, command.at, "transit requests")
    if TRANSIT_REPLY not in terms.limits:
        raise TransitNotProvided(
            f"{terms.agreement_id} defines no '{TRANSIT_REPLY}' limit: no transit can run under it"
        )
    if request.assurance.given_on > local_date(terms, command.at):
        raise TransitRequestInvalid(
            f"the destination's assurance is dated {request.assurance.given_on.isoformat()}, "
            "after the case is opened"
        )
    if request.planned_at <= command.at:
        raise TransitRequestInvalid(
            f"the planned transit ({request.planned_at.isoformat()}) lies in the past"
        )
    return request


def check_submission(state: CaseState, at: datetime, *, lead_times: bool = True) -> None:
    """A transit request is submitted under terms still in effect, with its lead times met
    (`lead_times`: judged once, when the request is admitted; `domain.decider.execute`)."""
    terms = state.terms
    assert terms is not None
    check_not_suspended(terms, at, "transit requests")
    if lead_times:
        check_lead_times(terms, _request(state), at)


def lead_states(terms: AgreementTerms) -> tuple[str, ...]:
    """The states whose working days count the lead times (the first one's time zone governs)."""
    match terms.transit.calendar:
        case "requested":
            return (terms.requested,)
        case "requesting":
            return (terms.requesting,)
        case "both":
            return (terms.requested, terms.requesting)
        case code:
            return (code,)


def _source(terms: AgreementTerms) -> str:
    rules = terms.transit
    checked = "verified" if rules.verified else "NOT verified"
    return f"{rules.source or 'the agreement terms'}; {checked}"


def check_lead_times(terms: AgreementTerms, request: TransitRequest, at: datetime) -> None:
    """Refuse (422, the rule quoted) a request made too close to its planned transit: before the
    `request_lead_working_days` / `request_lead_hours` lead, or so late that the requested state
    could not reply `reply_lead_hours` before it."""
    rules, planned = terms.transit, request.planned_at
    if planned <= at:
        raise TransitLeadTooShort(
            f"the planned transit ({planned.isoformat()}) does not lie after the request "
            f"({at.isoformat()})",
            rule="a transit is requested before it takes place",
        )
    states = lead_states(terms)
    zone = zone_of(states[0], terms.time_zones)
    if rules.request_lead_working_days:
        n = rules.request_lead_working_days
        day0 = at.astimezone(zone).date()
        earliest = nth_working_day_after(states, day0, n)
        planned_day = planned.astimezone(zone).date()
        if planned_day < earliest:
            raise TransitLeadTooShort(
                f"the transit planned for {planned_day.isoformat()} is requested on "
                f"{day0.isoformat()}: the earliest transit day for this request is "
                f"{earliest.isoformat()} (working days of {'+'.join(states)})",
                rule=f"a transit is requested at least {n} working days before the planned "
                f"transit ({_source(terms)})",
            )
    if rules.request_lead_hours:
        hours = rules.request_lead_hours
        if planned - at < timedelta(hours=hours):
            raise TransitLeadTooShort(
                f"the transit at {planned.isoformat()} is requested at {at.isoformat()}, "
                f"less than {hours} hours before",
                rule=f"a transit is requested at least {hours} hours before the planned transit "
                f"({_source(terms)})",
            )
    floor = reply_floor(terms, planned)
    if floor is not None and floor[0] <= at:
        due, hours, why = floor
        raise TransitLeadTooShort(
            f"the requested state could not reply before {due.astimezone(zone).isoformat()}, "
            f"{hours} hours before the transit{why}: that lies before the request",
            rule=f"the reply to a transit request is given at least {hours} hours before the "
            f"planned transit ({_source(terms)})",
        )


# --- the reply deadline ---------------------------------------------------------------------


def reply_floor(terms: AgreementTerms, planned: datetime) -> tuple[datetime, int, str] | None:
    """The latest reply the lead times allow (`reply_lead_hours` before the planned transit, or
    `weekend_reply_lead_hours` when it falls on a weekend or public holiday), with the hours and
    why; None when the terms set no reply lead."""
    rules = terms.transit
    states = lead_states(terms)
    zone = zone_of(states[0], terms.time_zones)
    hours, why = rules.reply_lead_hours, ""
    day = planned.astimezone(zone).date()
    if rules.weekend_reply_lead_hours and not is_working_day(states, day):
        hours = rules.weekend_reply_lead_hours
        where = "+".join(states)
        why = f" (it falls on {day.isoformat()}, a weekend day or public holiday in {where})"
    if not hours:
        return None
    return planned - timedelta(hours=hours), hours, why


def reply_deadline(terms: AgreementTerms, request: TransitRequest, receipt: datetime) -> Deadline:
    """The `transit_reply` limit from receipt, cut to the reply lead before the planned transit
    when that comes first; its expiry is deemed consent only where silence is consent."""
    limit = deadline_for(terms, TRANSIT_REPLY, receipt)
    rules = terms.transit
    on_expiry = OnExpiry.DEEMED_CONSENTED if rules.silence_is_consent else OnExpiry.ESCALATE
    floor = reply_floor(terms, request.planned_at)
    if floor is None or floor[0] >= limit.due:
        return limit.model_copy(update={"on_expiry": on_expiry})
    due, hours, why = floor
    zone = ZoneInfo(limit.time_zone)
    return limit.model_copy(
        update={
            "due": due.astimezone(zone),
            "on_expiry": on_expiry,
            "rule": (
                f"{hours} hours before the planned transit at "
                f"{request.planned_at.astimezone(zone).isoformat()}{why}, earlier than "
                f"{limit.rule}"
            ),
            "source": f"{limit.source}; lead: {rules.source}",
            "verified": limit.verified and rules.verified,
        }
    )


def running_reply(state: CaseState, at: datetime) -> Deadline:
    """The transit reply deadline a reply answers: a reply after it is refused where silence
    was consent (the consent applies), and is late but still taken where the limit escalates."""
    deadline = state.deadlines.get(TRANSIT_REPLY)
    if deadline is None:
        raise TransitNotProvided(f"no '{TRANSIT_REPLY}' deadline was set at receipt")
    if deadline.has_passed(at) and deadline.on_expiry is OnExpiry.DEEMED_CONSENTED:
        raise ReplyDeadlinePassed(
            f"the {TRANSIT_REPLY} limit ended {deadline.due.isoformat()}; silence is consent "
            "under these terms, so the transit is deemed consented"
        )
    return deadline


# --- the transit's own commands -------------------------------------------------------------


def _request(state: CaseState) -> TransitRequest:
    assert state.transit is not None  # a transit case opens with its request
    return state.transit


def decide_transit(
    command: ConsentTransit
    | RefuseTransit
    | ScheduleTransit
    | CompleteTransit
    | ReportTransitFailure
    | TakeBack,
    state: CaseState,
) -> list[Event]:
    at = command.at
    match command:
        case ConsentTransit():
            check_status(command, state, (Status.RECEIVED,))
            running_reply(state, at)
            return [TransitConsented(at=at, note=command.note)]
        case RefuseTransit():
            check_status(command, state, (Status.RECEIVED,))
            require_reasons(command.reasons, "a refusal of a transit")
            running_reply(state, at)
            return [TransitRefused(at=at, reasons=command.reasons)]
        case ScheduleTransit():
            check_status(command, state, SCHEDULABLE)
            plan = TransitPlan(
                on=command.on,
                entry_point=command.entry_point,
                exit_point=command.exit_point,
                escorts=command.escorts,
                flight=command.flight,
            )
            check_plan(state, plan, at)
            return [TransitScheduled(at=at, plan=plan)]
        case CompleteTransit():
            check_status(command, state, SCHEDULABLE)
            start = state.transit_plan.on if state.transit_plan else _request(state).planned_at
            if at < start:
                raise TransitNotAllowed(
                    f"the transit starts {start.isoformat()}; it cannot be done before"
                )
            return [TransitCompleted(at=at)]
        case ReportTransitFailure():
            check_status(command, state, FAILABLE)
            require_reasons(command.reasons, "a failed transit")
            return [
                TransitFailed(at=at, reasons=command.reasons, entry_refused=command.entry_refused)
            ]
        case TakeBack():
            check_status(command, state, (Status.TRANSIT_FAILED,))
            return [PersonTakenBack(at=at, note=command.note)]
        case _:
            assert_never(command)


def check_plan(state: CaseState, plan: TransitPlan, at: datetime) -> None:
    """A scheduled transit lies ahead, and no earlier than the instant the request planned (the
    one the requested state consented to, or was silent on)."""
    planned = _request(state).planned_at
    if plan.on < at:
        raise TransitRequestInvalid(f"the transit date {plan.on.isoformat()} lies in the past")
    if plan.on < planned:
        raise TransitNotAllowed(
            f"the transit at {plan.on.isoformat()} would come before the instant consented to "
            f"({planned.isoformat()}); a transit is not brought forward"
        )


def _replied(state: CaseState, at: datetime, status: Status) -> dict[str, object]:
    return {
        "status": status,
        "replied_at": at,
        **state.limits_ended(TRANSIT_REPLY),
    }


def transit_changes(
    state: CaseState,
    event: TransitConsented
    | TransitRefused
    | TransitDeemedConsented
    | TransitScheduled
    | TransitCompleted
    | TransitFailed
    | PersonTakenBack,
) -> dict[str, object]:
    """What a transit event changes in the state (`domain.decider.evolve` applies it)."""
    match event:
        case TransitConsented():
            return _replied(state, event.at, Status.CONSENTED)
        case TransitRefused():
            return {**_replied(state, event.at, Status.REFUSED), "refusal_reasons": event.reasons}
        case TransitDeemedConsented():
            return _replied(state, event.at, Status.DEEMED_CONSENTED)
        case TransitScheduled():
            return {"status": Status.TRANSIT_SCHEDULED, "transit_plan": event.plan}
        case TransitCompleted():
            return {"status": Status.TRANSITED, "transited_at": event.at}
        case TransitFailed():
            return {
                "status": Status.TRANSIT_FAILED,
                "transit_failure_reasons": event.reasons,
                "entry_refused": event.entry_refused,
            }
        case PersonTakenBack():
            return {"status": Status.TAKEN_BACK, "taken_back_at": event.at}
        case _:
            assert_never(event)
