"""The audit checkpoint, started by a Temporal Schedule: sign every case's head and hand it to
the sinks outside the database (a directory, a webhook), so that a later rewrite of history,
even one that recomputes the hash chain, is found by `readmit audit verify --checkpoint`.

One activity does it all: a checkpoint can be megabytes (one line per case), too big for a
workflow's history, and one retried from scratch is as good as the one that failed.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import (
        CHECKPOINT_WORKFLOW,
        TAKE_CHECKPOINT,
        CheckpointInput,
        CheckpointResult,
        TakeCheckpointInput,
    )


@workflow.defn(name=CHECKPOINT_WORKFLOW)
class AuditCheckpoint:
    @workflow.run
    async def run(self, request: CheckpointInput) -> CheckpointResult:
        result: CheckpointResult = await workflow.execute_activity(
            TAKE_CHECKPOINT,
            TakeCheckpointInput(),
            result_type=CheckpointResult,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=10),
                maximum_interval=timedelta(minutes=5),
                maximum_attempts=request.attempts,
            ),
        )
        workflow.logger.info(
            "audit checkpoint of %d case(s) at position %d", result.cases, result.global_position
        )
        return result
