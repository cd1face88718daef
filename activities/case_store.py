"""Appending a case's events to the event store, as an activity.

Event ids come from the workflow (`workflow.uuid4()`), so a retried append after a lost
acknowledgement is recognised by the store and writes nothing twice.
"""

from __future__ import annotations

import structlog
from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.events import to_stored
from readmit import metrics
from readmit.db.eventstore import ConcurrencyError, EventIdConflictError, EventStore, NewEvent
from readmit.logs import bind_case
from workflows.contracts import APPEND_EVENTS, AppendInput, AppendResult

log = structlog.get_logger(__name__)


class CaseStoreActivities:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name=APPEND_EVENTS)
    async def append_case_events(self, request: AppendInput) -> AppendResult:
        events = []
        for envelope in request.events:
            event_type, schema_version, data = to_stored(envelope.event)
            try:
                events.append(
                    NewEvent(
                        event_id=envelope.event_id,
                        type=event_type,
                        schema_version=schema_version,
                        data=data,
                        metadata={k: v for k, v in envelope.metadata.items() if v is not None},
                    )
                )
            except ValidationError as error:  # a bug upstream: retrying cannot help
                raise ApplicationError(
                    f"{event_type} cannot be stored: {error.errors()[0]['msg']}",
                    type="UnstorableEvent",
                    non_retryable=True,
                ) from error
        try:
            with metrics.APPEND_SECONDS.time():
                recorded = await self.store.append(
                    request.case_id, request.expected_version, events
                )
        except (ConcurrencyError, EventIdConflictError) as error:
            raise ApplicationError(
                str(error), type=type(error).__name__, non_retryable=True
            ) from error
        bind_case(request.case_id, activity.info().workflow_id, request.case_id[:2])
        log.info(
            "events appended",
            version=recorded[-1].version if recorded else request.expected_version,
            types=[r.type for r in recorded],
        )
        return AppendResult(
            version=recorded[-1].version if recorded else request.expected_version,
            positions=tuple(r.global_position for r in recorded),
        )
