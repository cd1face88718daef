"""Transit cases in the case workflow on the time-skipping test server: the reply limit's
timers under both rules for silence, and a failed transit taken back."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from case_system import CaseSystem

from adapters.agreements.catalogue import load_catalogue
from domain.agreements import AgreementTerms
from domain.commands import (
    CompleteTransit,
    ConsentTransit,
    OpenCase,
    ReportTransitFailure,
    SubmitApplication,
    TakeBack,
)
from domain.events import Event
from domain.transit_request import Assurance, TransitRequest
from domain.values import EscalationLevel, Person, Status
from workflows.contracts import Actor, CaseOutcome
from workflows.readmission_case import ReadmissionCase

FIXTURES = Path(__file__).parents[1] / "fixtures" / "agreements"
MARIA = Actor(user_id="maria.md", state="MD", role="officer")

pytestmark = pytest.mark.temporal


async def now(system: CaseSystem) -> datetime:
    instant: datetime = await system.env.get_current_time()
    return instant


async def open_transit(system: CaseSystem, terms: AgreementTerms) -> str:
    requesting = terms.requesting
    case_id = f"{requesting}-MD-2027-{secrets.randbelow(10**6):06d}"
    at = await now(system)
    command = OpenCase(
        at=at,
        case_id=case_id,
        terms=terms,
        category="third_country_national",
        person=Person(surname="Beridze", given_names="Nino", birth_date=date(1991, 3, 2)),
        kind="transit",
        transit=TransitRequest(
            destination="GE",
            assurance=Assurance(reference="GE-2027/1", given_on=at.date()),
            planned_at=at + timedelta(days=12),
            entry_point="Chișinău International Airport",
            exit_point="Chișinău International Airport",
            escorts=1,
        ),
    )
    officer = Actor(user_id="officer", state=requesting, role="officer")
    result = await system.gateway.open(command, officer)
    assert result.status == "draft"
    submitted = await system.gateway.execute(case_id, SubmitApplication(at=at), officer)
    assert submitted.status == "received"
    return case_id


async def events(system: CaseSystem, case_id: str) -> list[Event]:
    return [r.event() for r in await system.store.read_stream(case_id)]


async def run_past_the_reply_limit(system: CaseSystem, case_id: str) -> datetime:
    state = (await system.gateway.view(case_id)).state
    due: datetime = state.deadlines["transit_reply"].due
    await system.sleep((due - await now(system)).total_seconds() + 5)
    return due


async def test_silence_escalates_where_it_is_not_consent(case_system: CaseSystem) -> None:
    terms = load_catalogue().terms("EU-MD", "AT", "MD")
    case_id = await open_transit(case_system, terms)
    view = await case_system.gateway.view(case_id)
    assert set(a.level for a in view.reminders["transit_reply"]) >= {
        EscalationLevel.REMINDER_HALF,
        EscalationLevel.ESCALATION_NEAR,
    }
    due = await run_past_the_reply_limit(case_system, case_id)
    stored = await events(case_system, case_id)
    types = [e.type for e in stored]
    assert "TransitDeemedConsented" not in types and "VerificationRecorded" not in types
    passed = [
        e for e in stored if e.type == "DeadlineEscalated" and e.level.value == "escalation_passed"
    ]
    assert len(passed) == 1 and timedelta(0) < passed[0].at - due < timedelta(seconds=3)
    state = (await case_system.gateway.view(case_id)).state
    assert state.status is Status.RECEIVED and state.overdue == ("transit_reply",)
    rows = await case_system.pool.fetch(
        "SELECT role, kind FROM notifications WHERE case_id = $1 AND state = 'MD'", case_id
    )
    assert ("supervisor", "escalation_passed") in {(r["role"], r["kind"]) for r in rows}
    # a late reply is still taken, and the overdue limit is settled
    late = await case_system.gateway.execute(
        case_id, ConsentTransit(at=await now(case_system)), MARIA
    )
    assert late.status == "consented"


async def test_silence_is_deemed_consent_where_the_terms_say_so(case_system: CaseSystem) -> None:
    catalogue = load_catalogue(extra_files=[FIXTURES / "eu-md.transit-silence.toml"])
    case_id = await open_transit(case_system, catalogue.terms("EU-MD", "DE", "MD"))
    due = await run_past_the_reply_limit(case_system, case_id)
    stored = await events(case_system, case_id)
    deemed = next(e for e in stored if e.type == "TransitDeemedConsented")
    assert timedelta(0) < deemed.at - due < timedelta(seconds=3)
    state = (await case_system.gateway.view(case_id)).state
    assert state.status is Status.DEEMED_CONSENTED
    rows = await case_system.pool.fetch(
        "SELECT kind FROM notifications WHERE case_id = $1 AND state = 'DE'", case_id
    )
    assert "TransitDeemedConsented" in {r["kind"] for r in rows}


async def test_a_failed_transit_is_taken_back_and_closed(case_system: CaseSystem) -> None:
    terms = load_catalogue().terms("EU-MD", "AT", "MD")
    case_id = await open_transit(case_system, terms)
    gateway = case_system.gateway
    anna = Actor(user_id="anna.at", state="AT", role="officer")
    await gateway.execute(case_id, ConsentTransit(at=await now(case_system)), MARIA)
    await case_system.sleep(12 * 86400 + 3600)
    await gateway.execute(case_id, CompleteTransit(at=await now(case_system)), MARIA)
    failure = ReportTransitFailure(
        at=await now(case_system), reasons=("GE refused entry",), entry_refused=True
    )
    assert (await gateway.execute(case_id, failure, MARIA)).status == "transit_failed"
    result = await gateway.execute(case_id, TakeBack(at=await now(case_system)), anna)
    assert result.status == "taken_back"  # and then, nothing more to happen, closed itself
    handle = case_system.client.get_workflow_handle_for(ReadmissionCase.run, case_id)
    stored = await events(case_system, case_id)
    assert await handle.result() == CaseOutcome(
        case_id=case_id, status="closed", version=len(stored)
    )
    assert [e.type for e in stored][-4:] == [
        "TransitCompleted",
        "TransitFailed",
        "PersonTakenBack",
        "CaseClosed",
    ]
    assert (await case_system.store.verify(case_id)).ok
