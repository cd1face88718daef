"""The retention sweep's Temporal Schedule on the real dev server: created once, kept up to date,
and when it fires, the sweep runs on the case workers and erases what has expired."""

from __future__ import annotations

import asyncio
import secrets

import asyncpg
import pytest
from temporalio.client import ScheduleActionExecutionStartWorkflow, ScheduleDescription
from temporalio.testing import WorkflowEnvironment
from workers_support import running_workers

from adapters.protection.vault import PersonalDataVault
from adapters.temporal.retention import ensure_retention_schedule, schedule_id
from workflows.contracts import RetentionResult

pytestmark = pytest.mark.temporal


def at_hour_minute(described: ScheduleDescription) -> tuple[int, int]:
    """When the schedule fires (the server keeps a cron string as a calendar spec)."""
    (calendar,) = described.schedule.spec.calendars
    return calendar.hour[0].start, calendar.minute[0].start


async def test_the_schedule_starts_the_sweep_on_the_case_workers(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault
) -> None:
    prefix = f"r{secrets.token_hex(3)}"
    client = dev_env.client
    handle = await ensure_retention_schedule(client, "0 2 * * *", prefix)
    assert handle.id == schedule_id(prefix)
    assert at_hour_minute(await handle.describe()) == (2, 0)
    # a second start (every worker process runs this) updates, never duplicates
    await ensure_retention_schedule(client, "30 3 * * *", prefix)
    assert at_hour_minute(await handle.describe()) == (3, 30)
    assert [s.id async for s in await client.list_schedules()].count(schedule_id(prefix)) <= 1

    try:
        async with running_workers(client, pool, [], master=vault.master, queue_prefix=prefix):
            await handle.trigger()
            for _ in range(100):
                actions = (await handle.describe()).info.recent_actions
                if actions:
                    break
                await asyncio.sleep(0.1)
            started = actions[0].action
            assert isinstance(started, ScheduleActionExecutionStartWorkflow)
            sweep = client.get_workflow_handle(started.workflow_id)
            result = await asyncio.wait_for(sweep.result(), timeout=30)
            assert RetentionResult.model_validate(result) == RetentionResult(erased=0, batches=1)
    finally:
        await handle.delete()
