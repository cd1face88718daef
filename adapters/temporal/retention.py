"""The Temporal Schedule that runs the retention sweep (crypto-shredding of expired cases).

Created (or brought up to date) by every worker process that serves the case queue, so a fresh
system has it without a manual step; overlapping sweeps are skipped, missed ones caught up once.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, Schedule, ScheduleHandle

from adapters.temporal.schedules import case_queue_schedule, ensure_schedule
from workflows.contracts import QUEUE_PREFIX, RetentionInput
from workflows.retention_sweep import RetentionSweep


def schedule_id(prefix: str = QUEUE_PREFIX) -> str:
    return f"{prefix}-retention"


def retention_schedule(cron: str, prefix: str = QUEUE_PREFIX) -> Schedule:
    return case_queue_schedule(
        RetentionSweep.run,
        RetentionInput(),
        workflow_id=f"{prefix}-retention-sweep",
        prefix=prefix,
        cron=cron,
        timeout=timedelta(hours=6),
        catch_up=timedelta(days=1),
        note="erases the data keys of cases whose retention has ended",
    )


async def ensure_retention_schedule(
    client: Client, cron: str, prefix: str = QUEUE_PREFIX
) -> ScheduleHandle:
    """Create the schedule, or set its spec and action to `cron` and this code's workflow."""
    return await ensure_schedule(client, schedule_id(prefix), retention_schedule(cron, prefix))
