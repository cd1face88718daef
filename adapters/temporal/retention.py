"""The Temporal Schedule that runs the retention sweep (crypto-shredding of expired cases).

Created (or brought up to date) by every worker process that serves the case queue, so a fresh
system has it without a manual step; overlapping sweeps are skipped, missed ones caught up once.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)

from adapters.temporal.schedules import ensure_schedule
from workflows.contracts import QUEUE_PREFIX, RetentionInput, cases_queue
from workflows.retention_sweep import RetentionSweep


def schedule_id(prefix: str = QUEUE_PREFIX) -> str:
    return f"{prefix}-retention"


def retention_schedule(cron: str, prefix: str = QUEUE_PREFIX) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionSweep.run,
            RetentionInput(),
            id=f"{prefix}-retention-sweep",
            task_queue=cases_queue(prefix),
            execution_timeout=timedelta(hours=6),
        ),
        spec=ScheduleSpec(cron_expressions=[cron]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
        state=ScheduleState(note="erases the data keys of cases whose retention has ended"),
    )


async def ensure_retention_schedule(
    client: Client, cron: str, prefix: str = QUEUE_PREFIX
) -> ScheduleHandle:
    """Create the schedule, or set its spec and action to `cron` and this code's workflow."""
    return await ensure_schedule(client, schedule_id(prefix), retention_schedule(cron, prefix))
