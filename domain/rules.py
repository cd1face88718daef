"""The rules a decision checks, one function each, so that the decider reads as a table."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from domain.agreements import NOTICE_REPLY, AgreementTerms, Category, Limit, Trigger
from domain.calendars import zone_of
from domain.commands import CloseCase, Command, OpenCase
from domain.deadlines import Deadline, deadline_for, nth_working_day_after
from domain.errors import (
    AcceleratedNotAllowed,
    AgreementNotInForce,
    AgreementSuspended,
    CaseAlreadyOpened,
    CaseClosedError,
    DomainError,
    InvalidCommand,
    NoticeTooShort,
    ReasonsRequired,
    ReturnNotAllowed,
    SubmissionWindowClosed,
    TcnObligationsNotStarted,
    TransferNotAllowed,
    TransferNotConfirmed,
    WrongStatus,
)
from domain.state import FINAL_OUTCOMES, CaseState
from domain.terms import suspension_in_effect
from domain.values import (
    ApprehensionPlace,
    EvidenceItem,
    Grade,
    GradedEvidence,
    PlaceKind,
    Procedure,
    ReasonsRecord,
    Sealed,
    Status,
    TransferPlan,
)


def check_status(command: Command, state: CaseState, allowed: Iterable[Status]) -> None:
    """Refuse a command the case's lifecycle does not allow in its current status."""
    if not state.opened:
        raise WrongStatus(f"{command.command}: the case has not been opened")
    if state.status is Status.CLOSED:
        raise CaseClosedError(f"{command.command}: the case is closed")
    if state.status in FINAL_OUTCOMES and not isinstance(command, CloseCase):
        raise WrongStatus(
            f"{command.command}: the case's outcome is final ({state.status.value}); "
            "it can only be closed"
        )
    if state.status not in tuple(allowed):
        raise WrongStatus(
            f"{command.command} is not possible while the case is {state.status.value}"
        )


def local_date(terms: AgreementTerms, at: datetime) -> date:
    """The date of `at` in the requested state, which applies the agreement's dates."""
    return at.astimezone(zone_of(terms.requested, terms.time_zones)).date()


def check_not_suspended(terms: AgreementTerms, at: datetime, what: str = "applications") -> None:
    """No new `what` (applications, transit requests) under a suspended agreement."""
    suspension = suspension_in_effect(terms, local_date(terms, at))
    if suspension is not None:
        why = f" ({suspension.reason})" if suspension.reason else ""
        raise AgreementSuspended(
            f"{terms.agreement_id} has been suspended by {suspension.by} since "
            f"{suspension.from_.isoformat()}{why}; no new {what} can be made under it"
        )


def check_open_preconditions(command: OpenCase, state: CaseState) -> None:
    if state.opened:
        raise CaseAlreadyOpened(f"case {state.case_id} is already open")
    terms = command.terms
    if local_date(terms, command.at) < terms.in_force:
        raise AgreementNotInForce(f"{terms.agreement_id} applies from {terms.in_force.isoformat()}")
    check_not_suspended(terms, command.at)
    if command.knowledge_at is None and command.apprehended_at is None:
        raise InvalidCommand("give the instant the authority gained knowledge or apprehended")
    for name, instant in (
        ("knowledge_at", command.knowledge_at),
        ("apprehended_at", command.apprehended_at),
    ):
        if instant is not None and instant > command.at:
            raise InvalidCommand(f"{name} ({instant.isoformat()}) lies after the case is opened")


def submission_limit_name(procedure: Procedure | None) -> str:
    return "accelerated_submission" if procedure is Procedure.ACCELERATED else "submission"


def reply_limit_name(procedure: Procedure | None, terms: AgreementTerms | None = None) -> str:
    if procedure is Procedure.ACCELERATED and (
        terms is None or "accelerated_reply" in terms.limits
    ):
        return "accelerated_reply"
    return "reply"


def trigger_instant(limit: Limit | None, command: OpenCase) -> datetime | None:
    """The instant a limit started by opening the case counts from."""
    if limit is None:
        return None
    if limit.from_ is Trigger.APPREHENSION:
        return command.apprehended_at or command.knowledge_at
    if limit.from_ is Trigger.KNOWLEDGE:
        return command.knowledge_at or command.apprehended_at
    return command.at


def in_border_region(terms: AgreementTerms, place: ApprehensionPlace) -> bool:
    region = terms.border_region
    match place.kind:
        case PlaceKind.LAND_BORDER:
            return (
                region.land_km is not None
                and place.km_from_border is not None
                and place.km_from_border <= region.land_km
            )
        case PlaceKind.SEA_PORT:
            return region.sea_ports
        case PlaceKind.AIRPORT:
            return region.international_airports
        case PlaceKind.INLAND:
            return False


def check_accelerated(command: OpenCase) -> None:
    terms = command.terms
    if "accelerated_submission" not in terms.limits:
        raise AcceleratedNotAllowed(f"{terms.agreement_id} defines no accelerated procedure")
    if command.apprehended_at is None or command.apprehension_place is None:
        raise AcceleratedNotAllowed(
            "the accelerated procedure needs the apprehension instant and place"
        )
    if not in_border_region(terms, command.apprehension_place):
        region = terms.border_region
        raise AcceleratedNotAllowed(
            f"the apprehension place ({command.apprehension_place.kind.value}"
            f"{_km(command.apprehension_place)}) is outside the border region of "
            f"{terms.agreement_id} (land {region.land_km} km, sea ports {region.sea_ports}, "
            f"international airports {region.international_airports})"
        )


def _km(place: ApprehensionPlace) -> str:
    return (
        f", {place.km_from_border:g} km from the border" if place.km_from_border is not None else ""
    )


def check_can_submit(state: CaseState, at: datetime) -> None:
    terms = state.terms
    assert terms is not None
    check_not_suspended(terms, at)
    start = terms.tcn_obligations_from
    if (
        state.category is not None
        and state.category.under_tcn_provisions
        and start is not None
        and local_date(terms, at) < start
    ):
        raise TcnObligationsNotStarted(
            f"{terms.agreement_id} covers third-country nationals and stateless persons only "
            f"from {start.isoformat()}"
        )
    if not state.evidence:
        raise InvalidCommand("an application needs at least one item of evidence")
    name = submission_limit_name(state.procedure)
    deadline = state.deadlines.get(name)
    if deadline is not None and deadline.has_passed(at):
        source = f"; {deadline.source}" if deadline.source else ""
        raise SubmissionWindowClosed(
            f"the {name.replace('_', ' ')} limit ended {deadline.due.isoformat()} "
            f"({deadline.rule}{source})"
        )


def require_reasons(reasons: ReasonsRecord, what: str) -> None:
    """Reasons must be stated: a seal holds at least one (the sealer seals none but given
    reasons), so only clear ones are read."""
    if isinstance(reasons, Sealed):
        return
    if not any(r.strip() for r in reasons):
        raise ReasonsRequired(f"{what} must state its reasons")


def open_deadline(
    state: CaseState, name: str, missing: type[DomainError] = WrongStatus
) -> Deadline:
    """The running deadline of limit `name`, or `missing` if that limit is not running."""
    if name not in state.open_limits or name not in state.deadlines:
        running = ", ".join(state.open_limits) or "none"
        raise missing(f"no '{name}' limit is running (running: {running})")
    return state.deadlines[name]


def check_transfer_plan(state: CaseState, plan: TransferPlan | None, at: datetime) -> None:
    """A transfer happens within the transfer limit, at a BCP and by a mode the terms allow."""
    deadline = state.deadlines.get("transfer")
    if deadline is not None and deadline.has_passed(at):
        raise TransferNotAllowed(
            f"the transfer limit ended {deadline.due.isoformat()}; extend it for the obstacle first"
        )
    if plan is None:
        return
    if plan.on < at:
        raise InvalidCommand(f"the transfer date {plan.on.isoformat()} lies in the past")
    if deadline is not None and deadline.has_passed(plan.on):
        raise TransferNotAllowed(
            f"the transfer date {plan.on.isoformat()} is after the transfer limit "
            f"({deadline.due.isoformat()})"
        )
    _check_crossing(state, plan)


def check_return_plan(state: CaseState, plan: TransferPlan, at: datetime) -> None:
    """A return is planned at a BCP and by a mode the terms allow, on a date within the return
    limit while it runs; once the limit has passed (escalated, overdue) the person must still be
    taken back, so a later date is accepted then."""
    if plan.on < at:
        raise InvalidCommand(f"the return date {plan.on.isoformat()} lies in the past")
    deadline = state.deadlines.get("error_return")
    if (
        deadline is not None
        and "error_return" in state.open_limits
        and deadline.has_passed(plan.on)
        and not deadline.has_passed(at)
    ):
        raise ReturnNotAllowed(
            f"the return date {plan.on.isoformat()} is after the return limit "
            f"({deadline.due.isoformat()}); it may be later only once the limit has passed"
        )
    _check_crossing(state, plan)


def _check_crossing(state: CaseState, plan: TransferPlan) -> None:
    terms = state.terms
    assert terms is not None
    bcps = terms.transfer.bcps
    if bcps and bcp_key(plan.bcp) not in {bcp_key(b) for b in bcps}:
        raise InvalidCommand(
            f"unknown border crossing point {plan.bcp!r}; allowed: {', '.join(bcps)}"
        )
    if plan.mode.value not in terms.transfer.modes:
        raise InvalidCommand(
            f"transfer by {plan.mode.value} is not provided for; allowed: "
            f"{', '.join(terms.transfer.modes)}"
        )


def check_notice_lead(state: CaseState, plan: TransferPlan, at: datetime) -> None:
    """A transfer notified at `at` takes place at least the protocol's `notice_working_days`
    later, counted in the requested state's working days (the notice day never counts), and
    not before the other side's answer to the notice is due, so that its silence, where it is
    consent, confirms the transfer before it takes place."""
    terms = state.terms
    assert terms is not None
    answer = terms.limits.get(NOTICE_REPLY)
    if answer is not None and answer.binds(state.category):
        due = deadline_for(terms, NOTICE_REPLY, at).due
        if plan.on <= due:
            raise NoticeTooShort(
                f"the transfer date {plan.on.isoformat()} lies before {terms.requested}'s "
                f"answer to its notice is due ({due.isoformat()}: {answer.amount} "
                f"{answer.unit.value.replace('_', ' ')}; {answer.source})"
            )
    days = terms.transfer.notice_working_days
    if not days:
        return
    zone = zone_of(terms.requested, terms.time_zones)
    notified, on = at.astimezone(zone).date(), plan.on.astimezone(zone).date()
    earliest = nth_working_day_after((terms.requested,), notified, days)
    if on < earliest:
        raise NoticeTooShort(
            f"a transfer must be notified at least {days} working days before it takes place "
            f"({terms.transfer.source}); notified on {notified.isoformat()}, the earliest "
            f"transfer date is {earliest.isoformat()}, not {on.isoformat()}"
        )


def check_transfer_confirmed(state: CaseState) -> None:
    """Where the terms give the other side a limit to answer a transfer notice, the transfer
    takes place once it confirmed, in words or by its silence where silence is consent."""
    if state.ruleset < 2 or state.terms is None:
        return
    answer = state.terms.limits.get(NOTICE_REPLY)
    if answer is None or not answer.binds(state.category):
        return
    if state.transfer_confirmed_at is not None:
        return
    deadline = state.deadlines.get(NOTICE_REPLY)
    until = f" (its answer is due {deadline.due.isoformat()})" if deadline is not None else ""
    raise TransferNotConfirmed(
        f"{state.terms.requested} has not confirmed the notified transfer{until}; "
        f"{state.terms.transfer.source}"
    )


def bcp_key(name: str) -> str:
    """A crossing point's name for comparison: case, dashes and spacing do not matter."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def grade(terms: AgreementTerms, category: Category, item: EvidenceItem) -> Grade:
    """Proof if the agreement's annex lists the kind as conclusive for the category (stateless
    persons: the third-country nationals' annex unless the terms give their own), else prima
    facie."""
    return Grade.PROOF if item.kind in terms.evidence.proof_for(category) else Grade.PRIMA_FACIE


def grade_all(
    terms: AgreementTerms, category: Category, items: Iterable[EvidenceItem]
) -> tuple[GradedEvidence, ...]:
    return tuple(GradedEvidence(item=i, grade=grade(terms, category, i)) for i in items)
