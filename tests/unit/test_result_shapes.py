"""Results of cases started before `commit-case-events` still read with today's models.

An update's result and a workflow's result stay in Temporal's history; a client asking again
(an idempotent retry, a late `result()`) decodes the old shape with the new model.
"""

from __future__ import annotations

import uuid

from factories import open_case, run

from workflows.contracts import CaseOutcome, CaseView, RecordedEvent


def test_an_older_update_result_with_whole_events_reads_as_type_and_instant() -> None:
    _, events = run([open_case()])
    event_id = uuid.uuid4()
    older = {"event_id": str(event_id), "version": 1, "event": events[0].model_dump(mode="json")}
    recorded = RecordedEvent.model_validate(older)
    assert recorded == RecordedEvent(
        event_id=event_id, version=1, type="CaseOpened", at=events[0].at
    )


def test_an_older_workflow_result_with_the_whole_view_reads_as_the_outcome() -> None:
    state, _ = run([open_case()])
    older = CaseView(state=state, reminders={}).model_dump(mode="json")
    outcome = CaseOutcome.model_validate(older)
    assert state.case_id is not None
    assert outcome == CaseOutcome(case_id=state.case_id, status=state.status.value, version=2)
