"""Deadline computation as an activity: holiday calendars change, so a deadline is computed once,
recorded in history and in a `DeadlineSet` event, and never recomputed on replay."""

from __future__ import annotations

from temporalio import activity

from domain.alarms import plan_reminders
from domain.decider import compute_deadlines as compute
from workflows.contracts import COMPUTE_DEADLINES, DeadlinesInput, DeadlinesResult


@activity.defn(name=COMPUTE_DEADLINES)
async def compute_deadlines(request: DeadlinesInput) -> DeadlinesResult:
    deadlines = compute(request.terms, request.requests)
    return DeadlinesResult(
        deadlines=deadlines,
        reminders={d.limit: plan_reminders(d, request.policy) for d in deadlines},
    )
