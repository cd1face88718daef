"""`audit verify`: for each case, three independent checks.

1. The hash chain of its stored events recomputes.
2. Its Temporal history (every run, across continue-as-new) replays deterministically against
   the current workflow code: a code change without `workflow.patched` is caught here.
3. The event store and the workflow agree: the events the workflow recorded (read back from the
   results of its `commit_case_events` local activities) are the stored ones, same ids, same
   order.

Given a signed checkpoint (`adapters/audit/checkpoint.py`), a fourth: the stream still holds
the head the checkpoint anchored (`anchor_findings`), which no recomputed chain can fake. A
case the checkpoint holds and the store does not is verified too (see `with_lost_streams`).

Many cases at once form a pipeline with bounded memory: batches of case ids have their streams
read in one query and their histories fetched concurrently (at most `fetch_concurrency` at a
time) while `replayers` Replayers (each one history at a time) replay the histories of the
previous batches; at most about three batches of histories are held at once.

Replay runs outside Temporal's workflow sandbox unless `sandbox` is set: the sandbox re-imports
the workflow's modules for every run (most of the verifier's CPU), while the determinism check
itself (each replayed command against the one recorded in history) is the same in both runners.
What only the sandbox adds is refusing calls it restricts (a `datetime.now()`, file or network
access added to workflow code); those are caught by the workers, which run sandboxed, and by
`--sandbox` here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import (
    Replayer,
    UnsandboxedWorkflowRunner,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from adapters.audit.checkpoint import AnchorFinding, Checkpoint, anchor_findings
from adapters.audit.peer_anchors import PeerAnchors, PeerFinding
from adapters.db import canonical
from adapters.db.event_queries import absent_streams, read_streams
from adapters.db.eventstore import EventStore, Recorded
from workflows.contracts import COMMIT_EVENTS, CommitResult
from workflows.readmission_case import ReadmissionCase

_LOCAL_ACTIVITY_MARKER = "core_local_activity"


def local_activity_marker(event: Any) -> tuple[dict[str, Any], Payload | None] | None:
    """A local activity's marker in history: the SDK's own record of it (activity type,
    attempt, times; plain JSON) and its result payload, if it completed. None for any other
    event."""
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != _LOCAL_ACTIVITY_MARKER or "data" not in marker.details:
        return None
    data = marker.details["data"].payloads
    results = marker.details["result"].payloads if "result" in marker.details else ()
    return (json.loads(data[0].data) if data else {}), (results[0] if results else None)


def _local_activity_result(event: Any, activity_type: str) -> Payload | None:
    """The result payload of a completed local activity of `activity_type`, from its marker."""
    found = local_activity_marker(event)
    if found is None or found[0].get("activity_type") != activity_type:
        return None
    return found[1]


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
    anchor: list[AnchorFinding] | None = None  # None: no checkpoint to check against
    peer: list[PeerFinding] | None = None  # None: not checked against the peer's signed heads

    @property
    def anchor_ok(self) -> bool:
        return not self.anchor

    @property
    def anchor_detail(self) -> str:
        if self.anchor is None:
            return "no checkpoint given"
        return "; ".join(f.detail for f in self.anchor) or "holds the checkpoint's head"

    @property
    def peer_ok(self) -> bool:
        return not self.peer

    @property
    def peer_detail(self) -> str:
        if self.peer is None:
            return "not checked"
        return "; ".join(f.detail for f in self.peer) or "holds every head the peer signed"

    @property
    def ok(self) -> bool:
        return (
            self.chain_ok and self.replay_ok and self.agree_ok and self.anchor_ok and self.peer_ok
        )

    def as_dict(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "case_id": self.case_id,
            "ok": self.ok,
            "chain": {"ok": self.chain_ok, "detail": self.chain_detail},
            "replay": {"ok": self.replay_ok, "detail": self.replay_detail, "runs": self.runs},
            "store_matches_workflow": {"ok": self.agree_ok, "detail": self.agree_detail},
            "events": self.events,
        }
        if self.anchor is not None:
            report["checkpoint"] = {
                "ok": self.anchor_ok,
                "detail": self.anchor_detail,
                "findings": [f.as_dict() for f in self.anchor],
            }
        if self.peer is not None:
            report["peer"] = {
                "ok": self.peer_ok,
                "detail": self.peer_detail,
                "findings": [f.as_dict() for f in self.peer],
            }
        return report


@dataclass
class _Prepared:
    """A case whose chain and agreement are checked, waiting for its runs to be replayed."""

    report: CaseVerification
    histories: list[WorkflowHistory]
    remaining: int = 0
    failure: str | None = None

    def replayed(self, failure: Exception | None) -> None:
        self.remaining -= 1
        if failure is not None and self.failure is None:
            kind = "non-deterministic" if isinstance(failure, NondeterminismError) else "failed"
            self.failure = f"{kind}: {str(failure).splitlines()[0][:300]}"

    def finish(self) -> CaseVerification:
        if self.histories:
            self.report.replay_ok = self.failure is None
            self.report.replay_detail = (
                self.failure or f"{len(self.histories)} run(s) replay deterministically"
            )
        self.histories = []
        return self.report


@dataclass
class Verifier:
    store: EventStore
    client: Client
    converter: DataConverter
    workflows: Sequence[type] = field(default_factory=lambda: [ReadmissionCase])
    batch_size: int = 100
    fetch_concurrency: int = 16
    checkpoint: Checkpoint | None = None
    peer: PeerAnchors | None = None
    sandbox: bool = False  # replay in Temporal's sandbox (slower; also refuses restricted calls)
    replayers: int = 4  # Replayers working the queue at once: one waits on its core, one runs

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
        """Event ids the workflow recorded, in order: in the results of its commits (local
        activities, as markers)."""
        ids: list[str] = []
        for history in histories:
            for event in history.events:
                if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
                    continue
                result = _local_activity_result(event, COMMIT_EVENTS)
                if result is not None:
                    [commit] = await self.converter.decode([result], [CommitResult])
                    ids.extend(str(i) for i in commit.event_ids)
        return ids

    async def verify(self, case_id: str) -> CaseVerification:
        [report] = await self.verify_many([case_id])
        return report

    async def verify_many(
        self, case_ids: Sequence[str], progress: Callable[[CaseVerification], None] | None = None
    ) -> list[CaseVerification]:
        """Reports for `case_ids`, in the order given."""
        reports: dict[str, CaseVerification] = {}

        def keep(report: CaseVerification) -> None:
            reports[report.case_id] = report
            if progress:
                progress(report)

        await self.run(_aiter(case_ids), keep)
        return [reports[case_id] for case_id in case_ids]

    async def run(
        self, case_ids: AsyncIterable[str], on_report: Callable[[CaseVerification], None]
    ) -> None:
        """Verify every case of `case_ids`, calling `on_report` once per case as it finishes
        (not necessarily in order). Server or database outages raise; a case's own problems
        (missing history, undecodable payloads, a broken chain) are reported, not raised."""
        queue: asyncio.Queue[_Prepared | None] = asyncio.Queue(maxsize=self.batch_size)
        producer = asyncio.create_task(self._produce(case_ids, queue))
        replaying: dict[str, _Prepared] = {}

        async def histories() -> AsyncIterator[WorkflowHistory]:
            while (item := await queue.get()) is not None:
                if not item.histories:
                    on_report(item.finish())
                    continue
                item.remaining = len(item.histories)
                replaying[item.report.case_id] = item
                for history in item.histories:
                    yield history
            queue.put_nowait(None)  # the end, for the other replayers (there is room: we took it)

        async def replay(replayer: Replayer) -> None:
            async with replayer.workflow_replay_iterator(histories()) as results:
                async for result in results:
                    item = replaying[result.history.workflow_id]
                    item.replayed(result.replay_failure)
                    if item.remaining == 0:
                        del replaying[item.report.case_id]
                        on_report(item.finish())

        executor = ThreadPoolExecutor(
            max_workers=max(2, self.replayers), thread_name_prefix="audit-replay"
        )
        try:
            async with asyncio.TaskGroup() as replayers:
                for _ in range(self.replayers):
                    replayers.create_task(replay(self._replayer(executor)))
            await producer  # raises what stopped it early
        except BaseExceptionGroup as group:  # one replayer failed: raise what it raised
            raise group.exceptions[0] from None
        finally:
            if not producer.done():  # the replay side failed: stop preparing, quietly
                producer.cancel()
                await asyncio.gather(producer, return_exceptions=True)
            executor.shutdown(wait=False)

    def _replayer(self, executor: ThreadPoolExecutor) -> Replayer:
        return Replayer(
            workflows=list(self.workflows),
            data_converter=self.converter,
            workflow_task_executor=executor,
            workflow_runner=self._runner(),
        )

    def _runner(self) -> WorkflowRunner:
        if self.sandbox:
            return SandboxedWorkflowRunner()
        return UnsandboxedWorkflowRunner()

    async def _produce(
        self, case_ids: AsyncIterable[str], queue: asyncio.Queue[_Prepared | None]
    ) -> None:
        """Prepare cases batch by batch onto `queue`, then the end marker (also after a
        failure, so that the replay side stops and the failure surfaces)."""
        fetching = asyncio.Semaphore(self.fetch_concurrency)
        try:
            async for batch in batches(case_ids, self.batch_size):
                streams = await read_streams(self.store.pool, batch)
                prepared = await asyncio.gather(
                    *(
                        self._prepare(case_id, streams.get(case_id, []), fetching)
                        for case_id in batch
                    )
                )
                for item in prepared:
                    await queue.put(item)
        except asyncio.CancelledError:
            raise
        except BaseException:
            await queue.put(None)
            raise
        await queue.put(None)

    async def _prepare(
        self, case_id: str, stored: list[Recorded], fetching: asyncio.Semaphore
    ) -> _Prepared:
        report = CaseVerification(case_id)
        chain = canonical.verify_chain(case_id, stored)
        report.events = chain.checked
        report.chain_ok = chain.ok and chain.checked > 0
        report.chain_detail = (
            f"{chain.checked} events"
            if chain.ok
            else f"broken at version {chain.first_broken_version}: {chain.reason}"
        )
        if chain.checked == 0:
            report.chain_detail = "no events stored"
        if self.checkpoint is not None:
            report.anchor = anchor_findings(self.checkpoint, case_id, stored)
        if self.peer is not None:
            report.peer = await self.peer.findings(case_id, stored)
        try:
            async with fetching:
                histories = await self.histories(case_id)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            report.replay_detail = report.agree_detail = "no workflow history on the server"
            return _Prepared(report, [])
        report.runs = len(histories)
        stored_ids = [str(r.event_id) for r in stored]
        try:
            appended = await self.appended_event_ids(histories)
        except Exception as error:  # e.g. a payload key missing from the keyring
            report.agree_detail = f"cannot read what the workflow appended: {error}"
            return _Prepared(report, histories)
        report.agree_ok = stored_ids == appended
        report.agree_detail = (
            f"{len(stored_ids)} events in both"
            if report.agree_ok
            else _difference(stored_ids, appended)
        )
        return _Prepared(report, histories)


async def with_lost_streams(
    store: EventStore, store_ids: AsyncIterable[str], checkpoint: Checkpoint
) -> tuple[AsyncIterator[str], int]:
    """Every case to verify against `checkpoint`: those of `store_ids`, then those the
    checkpoint holds and the store has lost (deleted streams); and how many were lost."""
    lost = await absent_streams(store.pool, list(checkpoint.streams))

    async def ids() -> AsyncIterator[str]:
        async for case_id in store_ids:
            yield case_id
        for case_id in lost:
            yield case_id

    return ids(), len(lost)


async def _aiter(items: Iterable[str]) -> AsyncIterator[str]:
    for item in items:
        yield item


async def batches(items: AsyncIterable[str], size: int) -> AsyncIterator[list[str]]:
    """`items` in lists of `size` (the last one shorter), in order."""
    batch: list[str] = []
    async for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _difference(stored: list[str], appended: list[str]) -> str:
    for index, (a, b) in enumerate(zip(stored, appended, strict=False), start=1):
        if a != b:
            return f"version {index}: store has {a}, workflow appended {b}"
    return f"store has {len(stored)} events, workflow appended {len(appended)}"
