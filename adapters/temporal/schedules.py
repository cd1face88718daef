"""Create a Temporal Schedule, or bring an existing one up to date: what every worker process
serving the case queue does at start for each schedule it owns (retention, audit checkpoints),
so a fresh system has them without a manual step and a changed setting reaches them; and delete
one whose settings were taken away (`remove_schedule`), so it does not go on failing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

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

from workflows.contracts import cases_queue


def case_queue_schedule(
    run: Callable[..., Any],
    argument: Any,
    *,
    workflow_id: str,
    prefix: str,
    cron: str,
    timeout: timedelta,
    catch_up: timedelta,
    note: str,
) -> Schedule:
    """A schedule starting workflow `run(argument)` on the case queue at `cron` (UTC): a run
    still going when the next is due makes it skip; a missed one is caught up within
    `catch_up`."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            run, argument, id=workflow_id, task_queue=cases_queue(prefix), execution_timeout=timeout
        ),
        spec=ScheduleSpec(cron_expressions=[cron]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=catch_up),
        state=ScheduleState(note=note),
    )


async def ensure_schedule(client: Client, schedule_id: str, wanted: Schedule) -> ScheduleHandle:
    """Create schedule `schedule_id` as `wanted`, or set its spec and action to `wanted`'s."""
    try:
        return await client.create_schedule(schedule_id, wanted)
    except (ScheduleAlreadyRunningError, RPCError) as error:
        # a server restarted on its file database reports the schedule as a raw ALREADY_EXISTS
        if isinstance(error, RPCError) and error.status != RPCStatusCode.ALREADY_EXISTS:
            raise
        handle = client.get_schedule_handle(schedule_id)

        def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
            schedule = current.description.schedule
            schedule.spec, schedule.action = wanted.spec, wanted.action
            return ScheduleUpdate(schedule=schedule)

        await handle.update(update)
        return handle


async def remove_schedule(client: Client, schedule_id: str) -> bool:
    """Delete schedule `schedule_id` if there is one; whether there was."""
    try:
        await client.get_schedule_handle(schedule_id).delete()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
