"""Escalation repeats and their acknowledgement (`domain.escalations`) on the time-skipping
server: a transfer limit that passes (`on_expiry = "escalate"`: the case goes on waiting) is
escalated to the requesting state's supervisors, then again every 24 hours; a supervisor's
acknowledgement stops the repeats of that case, while the case nobody acknowledged keeps them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from case_system import CaseSystem
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer
from test_case_workflow import ANNA, OLENA, events, now, submitted_and_received
from workers_support import running_workers, signer

from adapters.db.eventstore import EventStore
from adapters.protection.vault import PersonalDataVault
from adapters.temporal.cases import CaseGateway, CommandRefused
from adapters.temporal.codec import Keyring, data_converter
from domain.commands import AcceptApplication, AcknowledgeEscalation, ClaimCase, ExtendTransferLimit
from domain.events import EscalationAcknowledged, EscalationRepeated
from domain.values import EscalationLevel, Side
from workflows.contracts import Actor
from workflows.readmission_case import ReadmissionCase

PIOTR = Actor(user_id="piotr.pl", state="PL", role="supervisor")
DAY = 24 * 3600
STATES = ("PL", "UA")  # the case's parties' queues (UA verifies the person)

pytestmark = pytest.mark.temporal


async def accepted(system: CaseSystem) -> str:
    case_id: str = await submitted_and_received(system)
    await system.gateway.execute(case_id, AcceptApplication(at=await now(system)), OLENA)
    return case_id


async def repeats(system: CaseSystem, case_id: str) -> list[int]:
    return [e.repeat for e in await events(system, case_id) if isinstance(e, EscalationRepeated)]


async def test_repeats_stop_once_acknowledged_and_go_on_without(
    case_system: CaseSystem, keyring: Keyring
) -> None:
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
    # both histories, repeats and acknowledgement included, replay with today's code
    replayer = Replayer(workflows=[ReadmissionCase], data_converter=data_converter(keyring))
    for case_id in (acknowledged, ignored):
        history = await case_system.client.get_workflow_handle(case_id).fetch_history()
        await replayer.replay_workflow(history)


@pytest.fixture
async def unsandboxed_system(
    time_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    vault: PersonalDataVault,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[CaseSystem]:
    """Workers without the sandbox, running the case workflow as it was before repeats: its
    next alarm never a repeat (`_next_alarm` as the deadlines alone give it)."""
    monkeypatch.setattr(
        ReadmissionCase, "_next_alarm", lambda self, deciding=True: self._next_deadline_alarm()
    )
    prefix = f"t{secrets.token_hex(4)}"
    system = CaseSystem(
        env=time_env,
        client=time_env.client,
        gateway=CaseGateway(time_env.client, vault=vault, signer=signer(), queue_prefix=prefix),
        store=EventStore(pool),
        pool=pool,
        prefix=prefix,
    )
    workers = running_workers(
        time_env.client, pool, STATES, master=vault.master, queue_prefix=prefix, sandbox=False
    )
    async with workers:
        with time_env.auto_time_skipping_disabled():
            yield system


async def test_a_history_from_before_repeats_replays_as_it_ran(
    unsandboxed_system: CaseSystem, keyring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case whose transfer limit passed under the code without repeats waited with no timer;
    replayed by today's code it must not arm one (`REPEATS_PATCH`), or its history breaks at
    the next timer (here: the extended limit's). Without the patch this fails with TMPRL1100."""
    system = unsandboxed_system
    case_id = await accepted(system)
    due = (await system.gateway.view(case_id)).state.deadlines["transfer"].due
    await system.sleep((due - await now(system)).total_seconds() + 3 * DAY)
    at = await now(system)
    # a command after the days without repeats: the replay goes past the wait
    claim = ClaimCase(at=at, side=Side.REQUESTING, by="anna.pl")
    await system.gateway.execute(case_id, claim, ANNA)
    extension = ExtendTransferLimit(at=at, days=30, reasons=("the person is in hospital",))
    await system.gateway.execute(case_id, extension, ANNA)  # new timers: the re-armed limit's
    await system.sleep(20 * DAY)
    assert await repeats(system, case_id) == []
    history = await system.client.get_workflow_handle(case_id).fetch_history()
    monkeypatch.undo()  # today's workflow
    replayer = Replayer(workflows=[ReadmissionCase], data_converter=data_converter(keyring))
    await replayer.replay_workflow(history)
    import os

    if os.environ.get("Q17_DEBUG"):
        for e in history.events:
            print("EV", e.event_id, e.event_time.ToDatetime(), e.WhichOneof("attributes"))
