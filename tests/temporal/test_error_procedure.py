"""Readmission in error as a procedure, closing by itself and correcting the person, on the
time-skipping server with real PostgreSQL and real activities (ruleset 2 cases)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest
from case_system import CaseSystem
from test_case_workflow import ANNA, OLENA, events, now, open_case, submitted_and_received

from adapters.agreements.catalogue import load_catalogue
from adapters.db.eventstore import Recorded
from adapters.db.projector import CaseProjector
from adapters.temporal.cases import CommandRefused
from domain.commands import (
    AcceptApplication,
    AcceptErrorClaim,
    AmendPerson,
    ClaimReadmissionInError,
    CloseCase,
    CompleteReturn,
    CompleteTransfer,
    DisputeErrorClaim,
    RefuseApplication,
    ScheduleReturn,
    ScheduleTransfer,
    WithdrawCase,
)
from domain.state import CaseState
from domain.values import EscalationLevel, Person, Sealed, Status
from workflows.contracts import CaseOutcome

pytestmark = pytest.mark.temporal


async def state_of(system: CaseSystem, case_id: str) -> CaseState:
    state: CaseState = (await system.gateway.view(case_id)).state
    return state


async def ended(system: CaseSystem, case_id: str) -> CaseOutcome:
    """The workflow's result: it ends when the case closes."""
    handle = system.client.get_workflow_handle(case_id, result_type=CaseOutcome)
    outcome: CaseOutcome = await asyncio.wait_for(handle.result(), timeout=60)
    return outcome


def closed_by_the_clock(recorded: list[Recorded]) -> None:
    last = recorded[-1]
    assert last.type == "CaseClosed"
    assert (last.metadata["actor_role"], last.metadata["actor"]) == ("system", "readmit")


async def transferred(system: CaseSystem) -> str:
    gateway = system.gateway
    case_id: str = await submitted_and_received(system)
    await gateway.execute(case_id, AcceptApplication(at=await now(system)), OLENA)
    on = await now(system) + timedelta(days=3)
    plan = ScheduleTransfer(at=on, on=on, bcp="Medyka-Shehyni", mode="land")
    await gateway.execute(case_id, plan, ANNA)
    await system.sleep(3 * 86400)
    await gateway.execute(case_id, CompleteTransfer(at=await now(system)), ANNA)
    return case_id


async def test_a_refused_case_closes_by_itself_as_the_clock(case_system: CaseSystem) -> None:
    case_id = await submitted_and_received(case_system)
    refusal = RefuseApplication(at=await now(case_system), reasons=("not a national",))
    result = await case_system.gateway.execute(case_id, refusal, OLENA)
    assert result.status == "refused"  # the refusal's own answer
    outcome = await ended(case_system, case_id)
    assert outcome.status == "closed"
    recorded = await case_system.store.read_stream(case_id)
    closed_by_the_clock(recorded)
    assert recorded[-1].data["outcome"] == "refused"
    # its retention period runs from that close: the sweep finds it once the period has ended
    await CaseProjector(case_system.pool).catch_up()
    closed_at = datetime.fromisoformat(recorded[-1].data["at"])
    days = load_catalogue().terms("EU-UA", "PL", "UA").retention.personal_data_days_after_close
    vault = case_system.gateway.vault
    assert case_id not in await vault.expired(closed_at + timedelta(days=days - 1))
    assert case_id in await vault.expired(closed_at + timedelta(days=days + 1))
    with pytest.raises(CommandRefused) as refused:  # closed: the workflow has ended
        await case_system.gateway.execute(case_id, CloseCase(at=await now(case_system)), ANNA)
    assert (refused.value.type, refused.value.http_status) == ("CaseClosedError", 409)


async def test_a_withdrawn_draft_closes_by_itself(case_system: CaseSystem) -> None:
    case_id = await open_case(case_system)
    withdrawal = WithdrawCase(at=await now(case_system), reasons=("left voluntarily",))
    await case_system.gateway.execute(case_id, withdrawal, ANNA)
    assert (await ended(case_system, case_id)).status == "closed"
    closed_by_the_clock(await case_system.store.read_stream(case_id))


async def test_a_transferred_case_closes_once_its_error_window_has_ended(
    case_system: CaseSystem,
) -> None:
    case_id = await transferred(case_system)
    state = await state_of(case_system, case_id)
    assert state.status is Status.TRANSFERRED and state.open_limits == ("readmission_in_error",)
    window = state.deadlines["readmission_in_error"]
    await case_system.sleep((window.due - await now(case_system)).total_seconds() + 5)
    assert (await ended(case_system, case_id)).status == "closed"
    recorded = await case_system.store.read_stream(case_id)
    closed_by_the_clock(recorded)
    assert [r.type for r in recorded[-2:]] == ["LimitLapsed", "CaseClosed"]


async def test_readmission_in_error_claim_answer_return_closed(case_system: CaseSystem) -> None:
    """Readmission in error: claim → answer → return → closed, with each side told."""
    gateway = case_system.gateway
    case_id = await transferred(case_system)
    await case_system.sleep(86400)
    claim = ClaimReadmissionInError(
        at=await now(case_system), reasons=("a third-country national",)
    )
    result = await gateway.execute(case_id, claim, OLENA)
    assert (result.status, [e.type for e in result.events]) == (
        "error_claimed",
        ["ErrorClaimed", "DeadlineSet"],
    )
    view = await gateway.view(case_id)
    assert view.state.open_limits == ("error_answer",)
    assert {a.limit for a in view.reminders["error_answer"]} == {"error_answer"}
    # each step only by its side (the API judges sides; the case judges statuses)
    with pytest.raises(CommandRefused) as early:
        await gateway.execute(case_id, CompleteReturn(at=await now(case_system)), OLENA)
    assert early.value.type == "WrongStatus" and early.value.http_status == 409
    await case_system.sleep(2 * 86400)
    await gateway.execute(case_id, AcceptErrorClaim(at=await now(case_system)), ANNA)
    state = await state_of(case_system, case_id)
    assert state.status is Status.ERROR_ACCEPTED and state.open_limits == ("error_return",)
    on = await now(case_system) + timedelta(days=4)
    back = ScheduleReturn(at=on, on=on, bcp="Medyka-Shehyni", mode="land", escorts=1)
    await gateway.execute(case_id, back, OLENA)
    await case_system.sleep(4 * 86400)
    done = await gateway.execute(case_id, CompleteReturn(at=await now(case_system)), OLENA)
    assert done.status == "returned_in_error"
    assert (await ended(case_system, case_id)).status == "closed"
    recorded = await case_system.store.read_stream(case_id)
    closed_by_the_clock(recorded)
    assert recorded[-1].data["outcome"] == "returned_in_error"
    types = [r.type for r in recorded]
    for step in ("ErrorClaimed", "ErrorClaimAccepted", "ReturnScheduled", "ReturnCompleted"):
        assert step in types
    rows = await case_system.pool.fetch(
        "SELECT state, kind FROM notifications WHERE case_id = $1", case_id
    )
    told = {(r["state"], r["kind"]) for r in rows}
    assert {
        ("PL", "ErrorClaimed"),
        ("UA", "ErrorClaimAccepted"),
        ("PL", "ReturnScheduled"),
        ("PL", "ReturnCompleted"),
    } <= told
    assert (await case_system.store.verify(case_id)).ok


async def test_silence_on_the_claim_is_deemed_acceptance_and_the_late_return_escalates(
    case_system: CaseSystem,
) -> None:
    gateway = case_system.gateway
    case_id = await transferred(case_system)
    claim = ClaimReadmissionInError(at=await now(case_system), reasons=("not ours",))
    await gateway.execute(case_id, claim, OLENA)
    answer = (await state_of(case_system, case_id)).deadlines["error_answer"]
    await case_system.sleep((answer.due - await now(case_system)).total_seconds() + 5)
    stored = await events(case_system, case_id)
    levels = [
        e.level for e in stored if e.type == "DeadlineEscalated" and e.limit == "error_answer"
    ]
    assert levels[-1] is EscalationLevel.ESCALATION_PASSED and len(levels) >= 2
    deemed = next(e for e in stored if e.type == "ErrorClaimDeemedAccepted")
    assert timedelta(0) < deemed.at - answer.due < timedelta(seconds=3)
    state = await state_of(case_system, case_id)
    assert state.status is Status.ERROR_ACCEPTED and "error_return" in state.open_limits
    # reminders of the answer went to the requesting state, which had to answer
    rows = await case_system.pool.fetch(
        "SELECT state, role FROM notifications WHERE notice_key LIKE $1",
        f"{case_id}:error_answer:%",
    )
    assert {(r["state"], r["role"]) for r in rows} >= {
        ("PL", "officer"),
        ("PL", "supervisor"),
    }
    # nobody hands the person back: the return limit passes and escalates in the requested state
    back = state.deadlines["error_return"]
    await case_system.sleep((back.due - await now(case_system)).total_seconds() + 5)
    state = await state_of(case_system, case_id)
    assert state.overdue == ("error_return",) and state.status is Status.ERROR_ACCEPTED
    rows = await case_system.pool.fetch(
        "SELECT state, role, kind FROM notifications WHERE notice_key LIKE $1",
        f"{case_id}:error_return:%",
    )
    assert ("UA", "supervisor", "escalation_passed") in {
        (r["state"], r["role"], r["kind"]) for r in rows
    }
    # the person must still be taken back: a late return is accepted, and the case closes
    on = await now(case_system) + timedelta(days=1)
    await gateway.execute(
        case_id, ScheduleReturn(at=on, on=on, bcp="Medyka-Shehyni", mode="land"), OLENA
    )
    await case_system.sleep(86400)
    await gateway.execute(case_id, CompleteReturn(at=await now(case_system)), OLENA)
    assert (await ended(case_system, case_id)).status == "closed"


async def test_a_disputed_claim_goes_to_both_supervisors_and_the_case_closes(
    case_system: CaseSystem,
) -> None:
    gateway = case_system.gateway
    case_id = await transferred(case_system)
    claim = ClaimReadmissionInError(at=await now(case_system), reasons=("not ours",))
    await gateway.execute(case_id, claim, OLENA)
    with pytest.raises(CommandRefused) as bare:
        await gateway.execute(
            case_id, DisputeErrorClaim(at=await now(case_system), reasons=()), ANNA
        )
    assert bare.value.type == "ReasonsRequired" and bare.value.http_status == 422
    dispute = DisputeErrorClaim(at=await now(case_system), reasons=("holds our passport",))
    assert (await gateway.execute(case_id, dispute, ANNA)).status == "error_disputed"
    assert (await ended(case_system, case_id)).status == "closed"
    rows = await case_system.pool.fetch(
        "SELECT state, role FROM notifications WHERE case_id = $1 AND kind = 'ErrorClaimDisputed'",
        case_id,
    )
    assert sorted((r["state"], r["role"]) for r in rows) == [
        ("PL", "supervisor"),
        ("UA", "supervisor"),
    ]


async def test_amending_the_person_seals_it_tells_the_other_side_and_verifies_again(
    case_system: CaseSystem,
) -> None:
    gateway = case_system.gateway
    case_id = await submitted_and_received(case_system)
    for _ in range(50):  # the registry lookup after receipt runs in the background
        if (await state_of(case_system, case_id)).verification is not None:
            break
        await asyncio.sleep(0.1)
    corrected = Person(surname="Shevchenko", given_names="Oleksandr", birth_date=date(1990, 5, 18))
    result = await gateway.execute(
        case_id, AmendPerson(at=await now(case_system), person=corrected), ANNA
    )
    assert [e.type for e in result.events] == ["PersonAmended"]
    recorded = await case_system.store.read_stream(case_id)
    amended = next(r for r in recorded if r.type == "PersonAmended")
    assert set(amended.data["person"]) == {"sealed"}  # never in the clear
    assert "1990-05-18" not in str(amended.data)
    state = await state_of(case_system, case_id)
    assert isinstance(state.person, Sealed)
    assert (await case_system.gateway.vault.reveal(state)).person == corrected
    rows = await case_system.pool.fetch(
        "SELECT state, kind FROM notifications WHERE case_id = $1 AND kind = 'PersonAmended'",
        case_id,
    )
    assert [(r["state"], r["kind"]) for r in rows] == [("UA", "PersonAmended")]
    for _ in range(50):  # the corrected person is looked up again
        stored = await events(case_system, case_id)
        if sum(e.type == "VerificationRecorded" for e in stored) == 2:
            break
        await asyncio.sleep(0.1)
    assert sum(e.type == "VerificationRecorded" for e in stored) == 2
    # not once the person has been transferred
    await gateway.execute(case_id, AcceptApplication(at=await now(case_system)), OLENA)
    on = await now(case_system) + timedelta(days=1)
    await gateway.execute(
        case_id, ScheduleTransfer(at=on, on=on, bcp="Medyka-Shehyni", mode="land"), ANNA
    )
    await case_system.sleep(86400)
    await gateway.execute(case_id, CompleteTransfer(at=await now(case_system)), ANNA)
    with pytest.raises(CommandRefused) as late:
        await gateway.execute(
            case_id, AmendPerson(at=await now(case_system), person=corrected), ANNA
        )
    assert late.value.type == "WrongStatus"
