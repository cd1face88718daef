"""The case workflow on the time-skipping test server with real PostgreSQL and real activities."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime, timedelta

import pytest
from case_system import CaseSystem

from adapters.agreements.catalogue import load_catalogue
from adapters.temporal.cases import CommandRefused
from domain.commands import (
    AcceptApplication,
    CloseCase,
    CompleteTransfer,
    ConfirmReceipt,
    ExtendReplyLimit,
    OpenCase,
    RefuseApplication,
    ScheduleTransfer,
    SubmitApplication,
)
from domain.deadlines import deadline_for
from domain.decider import fold
from domain.events import Event
from domain.stored import NewEvent
from domain.values import EscalationLevel, EvidenceItem, Person, Status
from workflows.contracts import Actor, CaseOutcome
from workflows.readmission_case import ReadmissionCase

ANNA = Actor(user_id="anna.pl", state="PL", role="officer")
OLENA = Actor(user_id="olena.ua", state="UA", role="officer")

pytestmark = pytest.mark.temporal


def new_case_id() -> str:
    return f"PL-UA-2027-{secrets.randbelow(10**6):06d}"


async def now(system: CaseSystem) -> datetime:
    instant: datetime = await system.env.get_current_time()
    return instant


async def open_case(system: CaseSystem) -> str:
    case_id = new_case_id()
    at = await now(system)
    terms = load_catalogue().terms("EU-UA", "PL", "UA")
    command = OpenCase(
        at=at,
        case_id=case_id,
        terms=terms,
        category="own_national",
        person=Person(surname="Shevchenko", given_names="Oleksandr", birth_date=date(1990, 5, 17)),
        evidence=(EvidenceItem(kind="passport", number="FA123456"),),
        knowledge_at=at - timedelta(days=1),
    )
    result = await system.gateway.open(command, ANNA, request_id=f"open-{case_id}")
    assert result.status == "draft"
    return case_id


async def events(system: CaseSystem, case_id: str) -> list[Event]:
    return [r.event() for r in await system.store.read_stream(case_id)]


async def submitted_and_received(system: CaseSystem) -> str:
    case_id = await open_case(system)
    at = await now(system)
    await system.gateway.execute(case_id, SubmitApplication(at=at), ANNA)
    await system.gateway.execute(case_id, ConfirmReceipt(at=at), OLENA)
    return case_id


async def test_happy_path_to_closed(case_system: CaseSystem) -> None:
    gateway = case_system.gateway
    case_id = await submitted_and_received(case_system)
    at = await now(case_system)
    await gateway.execute(case_id, AcceptApplication(at=at), OLENA)
    await case_system.sleep(3600)
    on = await now(case_system) + timedelta(days=7)
    await gateway.execute(
        case_id,
        ScheduleTransfer(at=at, on=on, bcp="Medyka-Shehyni", mode="land", escorts=2),
        ANNA,
    )
    await case_system.sleep(7 * 86400)
    await gateway.execute(case_id, CompleteTransfer(at=at), ANNA)
    result = await gateway.execute(case_id, CloseCase(at=at), ANNA)
    assert result.status == "closed"
    handle = case_system.client.get_workflow_handle_for(ReadmissionCase.run, case_id)
    final = await handle.result()
    stored = await events(case_system, case_id)
    assert final == CaseOutcome(case_id=case_id, status="closed", version=len(stored))
    assert fold(stored) == (await handle.query(ReadmissionCase.view)).state
    types = [e.type for e in stored]
    # an own national: no submission window runs, so opening records the case alone
    assert types[:2] == ["CaseOpened", "ApplicationSubmitted"]
    assert "ApplicationAccepted" in types and types[-1] == "CaseClosed"
    assert (await case_system.store.verify(case_id)).ok
    # the other side heard about it, durably, exactly once per notice
    rows = await case_system.pool.fetch(
        "SELECT key, kind, state FROM notifications WHERE case_id = $1", case_id
    )
    kinds = sorted((r["state"], r["kind"]) for r in rows)
    assert ("UA", "ApplicationSubmitted") in kinds and ("PL", "ApplicationAccepted") in kinds
    assert len({r["key"] for r in rows}) == len(rows)


async def test_silence_until_reply_deadline_is_deemed_acceptance(case_system: CaseSystem) -> None:
    case_id = await submitted_and_received(case_system)
    view = await case_system.gateway.view(case_id)
    reply = view.state.deadlines["reply"]
    assert view.state.terms is not None
    expected = deadline_for(view.state.terms, "reply", reply.triggered_at)
    assert reply.due == expected.due  # what `readmit deadlines` computes
    planned = {a.level: a.at for a in view.reminders["reply"]}
    assert set(planned) == {
        EscalationLevel.REMINDER_HALF,
        EscalationLevel.REMINDER_LAST_DAY,
        EscalationLevel.ESCALATION_NEAR,
    }
    remaining = (reply.due - await now(case_system)).total_seconds()
    await case_system.sleep(remaining + 5)
    stored = await events(case_system, case_id)
    verification = next(e for e in stored if e.type == "VerificationRecorded")
    assert verification.outcome.status.value == "not_confirmed"  # nobody in this registry
    escalations = [e for e in stored if e.type == "DeadlineEscalated"]
    assert [e.level for e in escalations] == [
        EscalationLevel.REMINDER_HALF,
        EscalationLevel.REMINDER_LAST_DAY,
        EscalationLevel.ESCALATION_NEAR,
        EscalationLevel.ESCALATION_PASSED,
    ]
    for event in escalations[:3]:
        assert abs((event.at - planned[event.level]).total_seconds()) < 2
    deemed = next(e for e in stored if e.type == "DeemedAccepted")
    assert timedelta(0) < deemed.at - reply.due < timedelta(seconds=3)
    state = (await case_system.gateway.view(case_id)).state
    assert state.status is Status.DEEMED_ACCEPTED and "transfer" in state.open_limits
    # supervisors of the requested state were told, officers reminded
    rows = await case_system.pool.fetch(
        "SELECT role, kind FROM notifications WHERE case_id = $1 AND state = 'UA'", case_id
    )
    assert {(r["role"], r["kind"]) for r in rows} >= {
        ("officer", "reminder_half"),
        ("officer", "reminder_last_day"),
        ("supervisor", "escalation_near"),
        ("supervisor", "escalation_passed"),
    }
    # a reply after the deadline is refused: the consequence already applies
    with pytest.raises(CommandRefused) as refused:
        await case_system.gateway.execute(
            case_id, RefuseApplication(at=deemed.at, reasons=("too late",)), OLENA
        )
    assert refused.value.type == "WrongStatus"


async def test_extension_moves_deadline_and_reminders(case_system: CaseSystem) -> None:
    case_id = await submitted_and_received(case_system)
    before = await case_system.gateway.view(case_id)
    await case_system.sleep(86400)
    result = await case_system.gateway.execute(
        case_id, ExtendReplyLimit(at=await now(case_system), reasons=("registry offline",)), OLENA
    )
    assert [e.type for e in result.events] == ["ReplyLimitExtended", "DeadlineSet"]
    after = await case_system.gateway.view(case_id)
    old, new = before.state.deadlines["reply"], after.state.deadlines["reply"]
    assert new.due > old.due and new.extended
    assert all(a.due == new.due for a in after.reminders["reply"])
    assert after.next_alarm is not None and after.next_alarm.due == new.due
    # nothing happens at the old deadline
    await case_system.sleep((old.due - await now(case_system)).total_seconds() + 60)
    stored = await events(case_system, case_id)
    assert not any(e.type == "DeemedAccepted" for e in stored)
    assert all(e.due == new.due for e in stored if e.type == "DeadlineEscalated")


async def test_invalid_command_rejected_before_history(case_system: CaseSystem) -> None:
    case_id = await open_case(case_system)
    with pytest.raises(CommandRefused) as refused:
        await case_system.gateway.execute(
            case_id, AcceptApplication(at=await now(case_system)), OLENA
        )
    assert refused.value.type == "WrongStatus" and refused.value.http_status == 409
    with pytest.raises(CommandRefused) as invalid:
        await case_system.gateway.execute(
            case_id, RefuseApplication(at=await now(case_system), reasons=()), OLENA
        )
    assert invalid.value.type in ("WrongStatus", "ReasonsRequired")
    history = await case_system.client.get_workflow_handle(case_id).fetch_history()
    accepted = [
        e
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted) == 1  # only the opening reached history
    assert [e.type for e in await events(case_system, case_id)] == ["CaseOpened"]


async def test_open_retried_creates_one_case(case_system: CaseSystem) -> None:
    case_id = await open_case(case_system)
    state = (await case_system.gateway.view(case_id)).state
    assert state.terms is not None and state.person is not None and state.category is not None
    again = OpenCase(
        at=await now(case_system),
        case_id=case_id,
        terms=state.terms,
        category=state.category,
        person=state.person,
        evidence=tuple(g.item for g in state.evidence),
        knowledge_at=state.knowledge_at,
    )
    # the same request retried (same idempotency key) answers as the first time
    replayed = await case_system.gateway.open(again, ANNA, request_id=f"open-{case_id}")
    assert replayed.version == 1 and next(e.type for e in replayed.events) == "CaseOpened"
    # a new request to open the same case is refused
    with pytest.raises(CommandRefused) as refused:
        await case_system.gateway.open(again, ANNA, request_id="another-request")
    assert refused.value.type == "CaseAlreadyOpened"
    assert len(await events(case_system, case_id)) == 1


async def test_events_a_lost_task_recorded_are_taken_up_and_the_command_decided_again(
    case_system: CaseSystem,
) -> None:
    """A worker died after its task's commit, before the task completed, and the task's retry
    took another update first: the store holds events the workflow never saw. The next commit
    finds them (same run), the workflow folds them and decides its command again on top."""
    case_id = await open_case(case_system)
    handle = case_system.client.get_workflow_handle(case_id)
    run_id = (await handle.describe()).run_id
    at = await now(case_system)
    lost = NewEvent(
        event_id=uuid.uuid4(),
        type="ApplicationSubmitted",
        schema_version=1,
        data={"at": at.isoformat()},
        metadata={"command": "submit_application", "causation_id": "lost", "run_id": run_id},
    )
    opened = len(await events(case_system, case_id))
    await case_system.store.append(case_id, opened, [lost])
    with pytest.raises(CommandRefused) as refused:  # decided again: already submitted
        await case_system.gateway.execute(case_id, SubmitApplication(at=at), ANNA)
    assert refused.value.type == "WrongStatus"
    result = await case_system.gateway.execute(case_id, ConfirmReceipt(at=at), OLENA)
    assert (result.status, result.events[0].version) == ("received", opened + 2)
    stored = await events(case_system, case_id)
    assert [e.type for e in stored if e.type != "DeadlineSet"][:3] == [
        "CaseOpened",
        "ApplicationSubmitted",
        "ReceiptConfirmed",
    ]
    assert fold(stored) == (await handle.query(ReadmissionCase.view)).state
