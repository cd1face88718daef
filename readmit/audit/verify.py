"""`audit verify`: for each case, three independent checks.

1. The hash chain of its stored events recomputes.
2. Its Temporal history (every run, across continue-as-new) replays deterministically against
   the current workflow code: a code change without `workflow.patched` is caught here.
3. The event store and the workflow agree: the events the workflow appended (read back from the
   inputs of its completed append activities) are the stored ones, same ids, same order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from readmit.db.eventstore import EventStore
from workflows.contracts import APPEND_EVENTS, AppendInput
from workflows.readmission_case import ReadmissionCase


@dataclass
class CaseVerification:
    case_id: str
    chain_ok: bool = False
    chain_detail: str = ""
    replay_ok: bool = False
    replay_detail: str = ""
    agree_ok: bool = False
    agree_detail: str = ""
    runs: int = 0
    events: int = 0

    @property
    def ok(self) -> bool:
        return self.chain_ok and self.replay_ok and self.agree_ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "ok": self.ok,
            "chain": {"ok": self.chain_ok, "detail": self.chain_detail},
            "replay": {"ok": self.replay_ok, "detail": self.replay_detail, "runs": self.runs},
            "store_matches_workflow": {"ok": self.agree_ok, "detail": self.agree_detail},
            "events": self.events,
        }


@dataclass
class Verifier:
    store: EventStore
    client: Client
    converter: DataConverter
    workflows: Sequence[type] = field(default_factory=lambda: [ReadmissionCase])

    async def histories(self, case_id: str) -> list[WorkflowHistory]:
        """Every run of the case's workflow, oldest first (following continue-as-new back)."""
        runs: list[WorkflowHistory] = []
        run_id: str | None = None
        while True:
            handle = self.client.get_workflow_handle(case_id, run_id=run_id)
            history = await handle.fetch_history()
            runs.append(history)
            started = history.events[0].workflow_execution_started_event_attributes
            previous = started.continued_execution_run_id
            if not previous:
                return list(reversed(runs))
            run_id = previous

    async def appended_event_ids(self, histories: Sequence[WorkflowHistory]) -> list[str]:
        """Event ids in the inputs of the append activities that completed, in order."""
        ids: list[str] = []
        for history in histories:
            scheduled: dict[int, Any] = {}
            for event in history.events:
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                    attributes = event.activity_task_scheduled_event_attributes
                    if attributes.activity_type.name == APPEND_EVENTS:
                        scheduled[event.event_id] = attributes.input.payloads
                elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                    payloads = scheduled.pop(
                        event.activity_task_completed_event_attributes.scheduled_event_id, None
                    )
                    if payloads is not None:
                        [request] = await self.converter.decode(list(payloads), [AppendInput])
                        ids.extend(str(e.event_id) for e in request.events)
        return ids

    async def verify(self, case_id: str) -> CaseVerification:
        report = CaseVerification(case_id)
        chain = await self.store.verify(case_id)
        report.events = chain.checked
        report.chain_ok = chain.ok and chain.checked > 0
        report.chain_detail = (
            f"{chain.checked} events"
            if chain.ok
            else f"broken at version {chain.first_broken_version}: {chain.reason}"
        )
        if chain.checked == 0:
            report.chain_detail = "no events stored"
        try:
            histories = await self.histories(case_id)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            report.replay_detail = report.agree_detail = "no workflow history on the server"
            return report
        report.runs = len(histories)
        report.replay_ok, report.replay_detail = await self._replay(histories)
        stored = [str(r.event_id) for r in await self.store.read_stream(case_id)]
        appended = await self.appended_event_ids(histories)
        report.agree_ok = stored == appended
        report.agree_detail = (
            f"{len(stored)} events in both" if report.agree_ok else _difference(stored, appended)
        )
        return report

    async def _replay(self, histories: Sequence[WorkflowHistory]) -> tuple[bool, str]:
        replayer = Replayer(workflows=list(self.workflows), data_converter=self.converter)

        async def each() -> AsyncIterator[WorkflowHistory]:
            for history in histories:
                yield history

        results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
        if results.replay_failures:
            first = next(iter(results.replay_failures.values()))
            return False, f"non-deterministic: {str(first).splitlines()[0][:300]}"
        return True, f"{len(histories)} run(s) replay deterministically"

    async def verify_many(
        self, case_ids: Sequence[str], progress: Callable[[CaseVerification], None] | None = None
    ) -> list[CaseVerification]:
        reports = []
        for case_id in case_ids:
            report = await self.verify(case_id)
            reports.append(report)
            if progress:
                progress(report)
        return reports


def _difference(stored: list[str], appended: list[str]) -> str:
    for index, (a, b) in enumerate(zip(stored, appended, strict=False), start=1):
        if a != b:
            return f"version {index}: store has {a}, workflow appended {b}"
    return f"store has {len(stored)} events, workflow appended {len(appended)}"
