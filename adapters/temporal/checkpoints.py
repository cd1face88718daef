"""The Temporal Schedule that takes signed audit checkpoints and hands them to the sinks.

Created (or brought up to date) by every worker process that serves the case queue and has a
checkpoint sink configured; overlapping runs are skipped, a missed one caught up within the
hour.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, Schedule, ScheduleHandle

from adapters.temporal.schedules import case_queue_schedule, ensure_schedule
from workflows.audit_checkpoint import AuditCheckpoint
from workflows.contracts import QUEUE_PREFIX, CheckpointInput


def schedule_id(prefix: str = QUEUE_PREFIX) -> str:
    return f"{prefix}-audit-checkpoint"


def checkpoint_schedule(cron: str, prefix: str = QUEUE_PREFIX) -> Schedule:
    return case_queue_schedule(
        AuditCheckpoint.run,
        CheckpointInput(),
        workflow_id=f"{prefix}-audit-checkpoint",
        prefix=prefix,
        cron=cron,
        timeout=timedelta(hours=2),
        catch_up=timedelta(hours=1),
        note="signs every case's head and hands it to the checkpoint sinks",
    )


async def ensure_checkpoint_schedule(
    client: Client, cron: str, prefix: str = QUEUE_PREFIX
) -> ScheduleHandle:
    """Create the schedule, or set its spec and action to `cron` and this code's workflow."""
    return await ensure_schedule(client, schedule_id(prefix), checkpoint_schedule(cron, prefix))
