"""Long cases, overdue transfers, and what Temporal's history holds (and does not)."""

from __future__ import annotations

import pytest
from case_system import CaseSystem
from temporalio.worker import Replayer
from test_case_workflow import ANNA, OLENA, events, now, open_case, submitted_and_received

from adapters.temporal.cases import CaseGateway
from adapters.temporal.codec import Keyring, data_converter
from domain.commands import (
    AcceptApplication,
    ConfirmReceipt,
    ExtendReplyLimit,
    SubmitApplication,
)
from domain.decider import fold
from domain.values import EscalationLevel, Status
from workflows.readmission_case import ReadmissionCase

pytestmark = pytest.mark.temporal


async def test_transfer_limit_passing_escalates(case_system: CaseSystem) -> None:
    case_id = await submitted_and_received(case_system)
    await case_system.gateway.execute(case_id, AcceptApplication(at=await now(case_system)), OLENA)
    transfer = (await case_system.gateway.view(case_id)).state.deadlines["transfer"]
    await case_system.sleep((transfer.due - await now(case_system)).total_seconds() + 10)
    state = (await case_system.gateway.view(case_id)).state
    assert state.overdue == ("transfer",) and state.status is Status.ACCEPTED
    stored = await events(case_system, case_id)
    passed = [e for e in stored if e.type == "DeadlineEscalated" and e.limit == "transfer"]
    assert passed[-1].level is EscalationLevel.ESCALATION_PASSED
    assert 0 < (passed[-1].at - transfer.due).total_seconds() < 3
    rows = await case_system.pool.fetch(
        "SELECT role FROM notifications WHERE case_id = $1 AND kind = 'escalation_passed'",
        case_id,
    )
    assert [r["role"] for r in rows] == ["supervisor"]


async def test_no_personal_data_in_temporal_history(
    case_system: CaseSystem, keyring: Keyring
) -> None:
    case_id = await submitted_and_received(case_system)
    await case_system.sleep(3600)
    history = await case_system.client.get_workflow_handle(case_id).fetch_history()
    raw = history.to_json()
    for personal in ("Shevchenko", "Oleksandr", "1990-05-17", "FA123456"):
        assert personal not in raw
    # ...while the same history replays with the keyring that encrypted it
    replayer = Replayer(workflows=[ReadmissionCase], data_converter=data_converter(keyring))
    await replayer.replay_workflow(history)


async def test_long_case_continues_as_new_with_its_whole_state(case_system: CaseSystem) -> None:
    gateway = CaseGateway(
        case_system.client,
        vault=case_system.gateway.vault,
        signer=case_system.gateway.signer,
        queue_prefix=case_system.prefix,
        history_limit=50,
    )
    original, case_system.gateway = case_system.gateway, gateway
    try:
        case_id = await open_case(case_system)
        first_run = (await case_system.client.get_workflow_handle(case_id).describe()).run_id
        await gateway.execute(case_id, SubmitApplication(at=await now(case_system)), ANNA)
        await gateway.execute(case_id, ConfirmReceipt(at=await now(case_system)), OLENA)
        await case_system.sleep(3600)
        await gateway.execute(
            case_id, ExtendReplyLimit(at=await now(case_system), reasons=("interview",)), OLENA
        )
        reply = (await gateway.view(case_id)).state.deadlines["reply"]
        await case_system.sleep((reply.due - await now(case_system)).total_seconds() + 10)
        description = await case_system.client.get_workflow_handle(case_id).describe()
        assert description.run_id != first_run  # it continued as new at least once
        view = await gateway.view(case_id)
        stored = await events(case_system, case_id)
        assert view.state == fold(stored)
        assert view.state.status is Status.DEEMED_ACCEPTED
        assert [e.type for e in stored].count("DeemedAccepted") == 1
        assert len({(e.level, e.due) for e in stored if e.type == "DeadlineEscalated"}) == len(
            [e for e in stored if e.type == "DeadlineEscalated"]
        )
    finally:
        case_system.gateway = original
