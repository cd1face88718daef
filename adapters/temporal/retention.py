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
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

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
    wanted = retention_schedule(cron, prefix)
    try:
        return await client.create_schedule(schedule_id(prefix), wanted)
    except (ScheduleAlreadyRunningError, RPCError) as error:
        # a server restarted on its file database reports the schedule as a raw ALREADY_EXISTS
        if isinstance(error, RPCError) and error.status != RPCStatusCode.ALREADY_EXISTS:
            raise
        handle = client.get_schedule_handle(schedule_id(prefix))

        def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
            schedule = current.description.schedule
            schedule.spec, schedule.action = wanted.spec, wanted.action
            return ScheduleUpdate(schedule=schedule)

        await handle.update(update)
        return handle
