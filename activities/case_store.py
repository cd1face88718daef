"""Recording a case's events in the event store, as activities.

`commit_case_events` (a local activity of the case workflow) appends a command's events and
writes the notices they cause in the same statement (`record_notices`, a transactional outbox),
then plans the reminders of the deadlines it recorded. The events arrive as the store takes
them (`domain.stored.NewEvent`) and are written as they come.

Event ids come from the workflow (`workflow.uuid4()`), so a retried append after a lost
acknowledgement is recognised by the store and writes nothing twice. A local activity's result
reaches history only with its workflow task: if the worker dies after the commit but before
that, the task runs again on another worker, deciding the same command at a later instant, with
the same event ids. The store's first record then stands: when the ids are recorded right after
`expected_version` by the same run, command and update, those recorded events are returned
(`recorded`) and the workflow goes on from them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters import metrics
from adapters.db.canonical import NotCanonicalizable
from adapters.db.eventstore import (
    ConcurrencyError,
    EventIdConflictError,
    EventStore,
    Recorded,
    SqlCall,
)
from adapters.logs import bind_case
from adapters.notices import record_notices
from domain.alarms import plan_reminders
from domain.events import DeadlineSet, Event
from domain.stored import NewEvent
from workflows.contracts import COMMIT_EVENTS, CommitInput, CommitResult

log = structlog.get_logger(__name__)


def _refused(error: Exception) -> ApplicationError:
    return ApplicationError(str(error), type=type(error).__name__, non_retryable=True)


_STEP = ("run_id", "command", "causation_id")


def _step(metadata: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(metadata.get(k) for k in _STEP)


def _lost_step(later: Sequence[Recorded], sent: Sequence[NewEvent]) -> list[Recorded]:
    """The events an earlier attempt of this workflow task recorded right after the expected
    version: the contiguous events of its first step, if they are this run's. Empty when the
    stream moved on otherwise (another run, or nothing there)."""
    if not later or later[0].metadata.get("run_id") != sent[0].metadata.get("run_id"):
        return []
    step = _step(later[0].metadata)
    lost = []
    for recorded in later:
        if _step(recorded.metadata) != step:
            break
        lost.append(recorded)
    return lost


class CaseStoreActivities:
    def __init__(
        self, store: EventStore, channels: Collection[str] = ("inbox", "email", "webhook")
    ) -> None:
        self.store = store
        self.channels = channels

    @activity.defn(name=COMMIT_EVENTS)
    async def commit_case_events(self, request: CommitInput) -> CommitResult:
        events = request.events
        calls = [SqlCall("case_stream_head", (request.case_id,))]
        if request.notices:
            calls.append(record_notices(request.notices, self.channels))
        recorded: tuple[Event, ...] = ()
        superseded, ids = False, tuple(e.event_id for e in events)
        try:
            with metrics.APPEND_SECONDS.time():
                _, (head_before, *_) = await self.store.append_with(
                    request.case_id, request.expected_version, events, calls
                )
            fresh = head_before == request.expected_version
            error: Exception | None = None
        except (ConcurrencyError, EventIdConflictError) as refused:
            fresh, error = False, refused
        except NotCanonicalizable as unstorable:  # a bug upstream: retrying cannot help
            raise ApplicationError(
                f"an event cannot be stored: {unstorable}",
                type="UnstorableEvent",
                non_retryable=True,
            ) from unstorable
        if fresh:
            kept = [e.event() for e in events if e.type == "DeadlineSet"]
        else:
            # Past the expected version, only an earlier attempt of this run's task can have
            # written (the workflow is its stream's one writer): what it recorded stands. It was
            # this command (same step), perhaps decided otherwise then; or another update it
            # took first, this command still to be decided on top of it.
            later = await self.store.read_stream(request.case_id, request.expected_version + 1)
            lost = _lost_step(later, events)
            if not lost:
                refusal = error or EventIdConflictError("recorded, but not by this run")
                raise _refused(refusal) from refusal
            superseded = _step(lost[0].metadata) != _step(events[0].metadata)
            recorded = tuple(r.event() for r in lost)
            kept = list(recorded)
            ids = tuple(r.event_id for r in lost)
        bind_case(request.case_id, activity.info().workflow_id or "", request.case_id[:2])
        version = request.expected_version + len(ids)
        log.info(
            "events committed",
            version=version,
            types=[e.type for e in events],
            notices=len(request.notices),
            first_record_kept=bool(recorded),
            superseded=superseded,
        )
        deadlines = tuple(e.deadline for e in kept if isinstance(e, DeadlineSet))
        return CommitResult(
            version=version,
            event_ids=ids,
            recorded=recorded,
            superseded=superseded,
            deadlines=deadlines,
            reminders={d.limit: plan_reminders(d, request.policy) for d in deadlines},
        )
