"""The audit checkpoint's workflow and its Temporal Schedule: run by the case workers, it signs
every case's head into a new file of the directory sink; the workers create the schedule when a
sink is configured and delete it when none is, and a run on a worker without one fails at once,
naming the settings."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import uuid
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import ScheduleActionExecutionStartWorkflow, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from test_retention_schedule import at_hour_minute
from workers_support import running_workers

from adapters.audit.bundle import signing_key_from
from adapters.audit.checkpoint import read_checkpoint
from adapters.db.eventstore import EventStore
from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings
from adapters.temporal.checkpoints import ensure_checkpoint_schedule, schedule_id
from adapters.temporal.retention import schedule_id as retention_schedule_id
from adapters.temporal.schedules import remove_schedule
from domain.stored import NewEvent
from workers.root import worker_root
from workflows.audit_checkpoint import AuditCheckpoint
from workflows.contracts import CheckpointInput, CheckpointResult, cases_queue

pytestmark = pytest.mark.temporal
SEED = base64.b64encode(os.urandom(32)).decode()


async def three_cases(pool: asyncpg.Pool) -> EventStore:
    store = EventStore(pool)
    for number, length in ((1, 3), (2, 1), (3, 2)):
        events = [
            NewEvent(event_id=uuid.uuid4(), type="NoteAdded", schema_version=1, data={"n": n})
            for n in range(length)
        ]
        await store.append(f"PL-UA-2027-{number:06d}", 0, events)
    return store


async def test_the_checkpoint_workflow_writes_a_signed_checkpoint_into_the_directory(
    time_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault, tmp_path: Path
) -> None:
    store = await three_cases(pool)
    prefix = f"c{secrets.token_hex(3)}"
    settings = Settings(audit_checkpoint_dir=tmp_path, audit_signing_key=SEED)
    async with running_workers(
        time_env.client, pool, [], settings=settings, master=vault.master, queue_prefix=prefix
    ):
        result = await time_env.client.execute_workflow(
            AuditCheckpoint.run,
            CheckpointInput(),
            id=f"{prefix}-checkpoint",
            task_queue=cases_queue(prefix),
        )
    assert (result.global_position, result.cases) == (6, 3)
    [written] = await asyncio.to_thread(lambda: list(tmp_path.iterdir()))
    assert result.delivered == (f"directory:{written}",)
    checkpoint = read_checkpoint(written.read_bytes(), signing_key_from(SEED).public_key())
    assert written.name == checkpoint.file_name()
    assert (checkpoint.merkle_root, checkpoint.created_at) == (
        result.merkle_root,
        result.created_at,
    )
    for case_id, head in checkpoint.streams.items():
        assert head.hash == (await store.read_stream(case_id))[-1].hash


async def test_without_a_sink_the_checkpoint_fails_at_once_naming_the_settings(
    time_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault
) -> None:
    prefix = f"c{secrets.token_hex(3)}"
    async with running_workers(
        time_env.client, pool, [], settings=Settings(), master=vault.master, queue_prefix=prefix
    ):
        with pytest.raises(WorkflowFailureError) as failed:
            await time_env.client.execute_workflow(
                AuditCheckpoint.run,
                CheckpointInput(),
                id=f"{prefix}-checkpoint",
                task_queue=cases_queue(prefix),
            )
    activity_failure = failed.value.cause
    assert isinstance(activity_failure, ActivityError)
    cause = activity_failure.cause  # the activity's own error
    assert isinstance(cause, ApplicationError) and cause.type == "CheckpointSinkMissing"
    assert "READMIT_AUDIT_CHECKPOINT_DIR" in str(cause)


async def test_the_workers_keep_the_schedule_and_it_fires_the_checkpoint(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault, tmp_path: Path
) -> None:
    prefix = f"c{secrets.token_hex(3)}"  # no cases (the projector would fold the made-up ones)
    client = dev_env.client
    settings = Settings(
        audit_checkpoint_dir=tmp_path,
        audit_signing_key=SEED,
        audit_checkpoint_schedule="15 * * * *",
    )
    handle = client.get_schedule_handle(schedule_id(prefix))
    try:
        async with (
            worker_root(
                settings, [], client=client, pool=pool, master=vault.master, queue_prefix=prefix
            ) as root,
            root.running(),
        ):
            described = await handle.describe()
            assert described.schedule.spec.calendars[0].minute[0].start == 15
            # a second start (every worker process runs this) updates, never duplicates
            await ensure_checkpoint_schedule(client, "30 */6 * * *", prefix)
            assert at_hour_minute(await handle.describe())[1] == 30
            await handle.trigger()
            for _ in range(100):
                actions = (await handle.describe()).info.recent_actions
                if actions:
                    break
                await asyncio.sleep(0.1)
            started = actions[0].action
            assert isinstance(started, ScheduleActionExecutionStartWorkflow)
            run = client.get_workflow_handle(started.workflow_id, result_type=CheckpointResult)
            result = await asyncio.wait_for(run.result(), timeout=30)
        assert (result.cases, result.global_position) == (0, 0)
        assert await asyncio.to_thread(os.listdir, tmp_path) == [Path(result.delivered[0]).name]
    finally:
        await handle.delete()
        await client.get_schedule_handle(retention_schedule_id(prefix)).delete()


async def test_a_worker_without_a_sink_deletes_the_schedule_left_by_an_earlier_one(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault, tmp_path: Path
) -> None:
    """The sinks taken out of the settings: the next worker start deletes the schedule, which
    would otherwise start a run every hour that fails with `CheckpointSinkMissing`."""
    prefix = f"c{secrets.token_hex(3)}"
    client = dev_env.client
    handle = client.get_schedule_handle(schedule_id(prefix))
    await ensure_checkpoint_schedule(client, "15 * * * *", prefix)
    assert (await handle.describe()).schedule.spec.calendars
    try:
        async with worker_root(
            Settings(audit_signing_key=SEED),
            [],
            client=client,
            pool=pool,
            master=vault.master,
            queue_prefix=prefix,
        ):
            listed = [s.id async for s in await client.list_schedules()]
            assert schedule_id(prefix) not in listed
            with pytest.raises(RPCError) as missing:
                await handle.describe()
            assert missing.value.status == RPCStatusCode.NOT_FOUND
        # and again with nothing to delete: nothing fails
        assert await remove_schedule(client, schedule_id(prefix)) is False
    finally:
        await client.get_schedule_handle(retention_schedule_id(prefix)).delete()
