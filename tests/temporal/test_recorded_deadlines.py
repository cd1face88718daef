"""A running case keeps the deadlines it recorded when its workflow is replayed under newer
calendars: a worker whose holiday data moved a due day (an upgraded `holidays` package) replays
the case's history and goes on from the recorded deadlines, not from ones it computes again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import observed_workflow
import pytest
from case_system import CaseSystem
from observed_workflow import ObservedCase
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from test_case_workflow import events, submitted_and_received

from domain import deadline_starts
from domain.deadlines import Deadline
from domain.events import DeadlineSet

pytestmark = pytest.mark.temporal


async def test_a_replay_under_newer_calendars_keeps_the_recorded_deadlines(
    case_system: CaseSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await submitted_and_received(case_system)
    recorded = {
        e.deadline.limit: e.deadline
        for e in await events(case_system, case_id)
        if isinstance(e, DeadlineSet)
    }
    assert "reply" in recorded
    history = await case_system.client.get_workflow_handle(case_id).fetch_history()

    computed = deadline_starts.deadline_for  # type: ignore[attr-defined]

    def a_day_later(*args: Any, **kwargs: Any) -> Deadline:  # a holiday added since
        deadline: Deadline = computed(*args, **kwargs)
        return deadline.model_copy(
            update={"due": deadline.due + timedelta(days=1), "holidays_version": "newer"}
        )

    monkeypatch.setattr(deadline_starts, "deadline_for", a_day_later)
    observed_workflow.STATES.clear()
    replayer = Replayer(
        workflows=[ObservedCase],
        data_converter=case_system.client.data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    await replayer.replay_workflow(history)
    replayed = observed_workflow.STATES[-1]
    assert replayed.deadlines["reply"] == recorded["reply"]
    assert replayed.deadlines == recorded
