"""Escalation repeats and their acknowledgement (`domain.escalations`) on the time-skipping
server: a transfer limit that passes (`on_expiry = "escalate"`: the case goes on waiting) is
escalated to the requesting state's supervisors, then again every 24 hours; a supervisor's
acknowledgement stops the repeats of that case, while the case nobody acknowledged keeps them."""

from __future__ import annotations

import pytest
from case_system import CaseSystem
from test_case_workflow import ANNA, OLENA, events, now, submitted_and_received

from adapters.temporal.cases import CommandRefused
from domain.commands import AcceptApplication, AcknowledgeEscalation
from domain.events import EscalationAcknowledged, EscalationRepeated
from domain.values import EscalationLevel, Side
from workflows.contracts import Actor

PIOTR = Actor(user_id="piotr.pl", state="PL", role="supervisor")
DAY = 24 * 3600

pytestmark = pytest.mark.temporal


async def accepted(system: CaseSystem) -> str:
    case_id: str = await submitted_and_received(system)
    await system.gateway.execute(case_id, AcceptApplication(at=await now(system)), OLENA)
    return case_id


async def repeats(system: CaseSystem, case_id: str) -> list[int]:
    return [e.repeat for e in await events(system, case_id) if isinstance(e, EscalationRepeated)]


async def test_repeats_stop_once_acknowledged_and_go_on_without(case_system: CaseSystem) -> None:
    gateway = case_system.gateway
    acknowledged, ignored = await accepted(case_system), await accepted(case_system)
    view = await gateway.view(acknowledged)
    due = view.state.deadlines["transfer"].due
    at = await now(case_system)
    # nothing escalated yet: nothing to acknowledge; officers never acknowledge
    with pytest.raises(CommandRefused) as nothing:
        await gateway.execute(
            acknowledged, AcknowledgeEscalation(at=at, side=Side.REQUESTING, by="piotr.pl"), PIOTR
        )
    assert nothing.value.type == "NothingToAcknowledge"
    with pytest.raises(CommandRefused) as officer:
        await gateway.execute(
            acknowledged, AcknowledgeEscalation(at=at, side=Side.REQUESTING, by="anna.pl"), ANNA
        )
    assert officer.value.type == "ActorMayNotAct"

    await case_system.sleep((due - at).total_seconds() + 5)  # the transfer limit passes
    passed = [e for e in await events(case_system, acknowledged) if e.type == "DeadlineEscalated"]
    assert passed[-1].level is EscalationLevel.ESCALATION_PASSED
    assert (await gateway.view(acknowledged)).state.overdue == ("transfer",)
    await case_system.sleep(2 * DAY + 60)
    assert await repeats(case_system, acknowledged) == [1, 2]
    assert await repeats(case_system, ignored) == [1, 2]

    result = await gateway.execute(
        acknowledged,
        AcknowledgeEscalation(at=await now(case_system), side=Side.REQUESTING, by="piotr.pl"),
        PIOTR,
    )
    assert [e.type for e in result.events] == ["EscalationAcknowledged"]
    stored = await case_system.store.read_stream(acknowledged)
    recorded = stored[-1].event()
    assert isinstance(recorded, EscalationAcknowledged)
    assert (recorded.limit, recorded.due, recorded.side) == ("transfer", due, Side.REQUESTING)
    assert stored[-1].metadata["actor"] == "piotr.pl"

    await case_system.sleep(3 * DAY)
    assert await repeats(case_system, acknowledged) == [1, 2]  # stopped
    assert await repeats(case_system, ignored) == [1, 2, 3, 4, 5]  # going on
    # each repeat told the requesting state's supervisors (here: their shared inbox)
    rows = await case_system.pool.fetch(
        "SELECT DISTINCT notice_key FROM notifications"
        " WHERE case_id = $1 AND kind = 'escalation_repeated' AND state = 'PL'"
        " AND role = 'supervisor'",
        ignored,
    )
    assert len(rows) == 5
    with pytest.raises(CommandRefused) as again:
        await gateway.execute(
            acknowledged,
            AcknowledgeEscalation(at=await now(case_system), side=Side.REQUESTING, by="piotr.pl"),
            PIOTR,
        )
    assert again.value.type == "NothingToAcknowledge"
    # the view still answers (a query never marks the history)
    assert (await gateway.view(ignored)).next_alarm is not None
