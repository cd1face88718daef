"""The retention sweep, started by a Temporal Schedule: erase the data keys of expired cases.

A case's personal data is kept for the period its agreement sets after the case closes; then
its data key is erased (crypto-shredding). The sweep erases in batches until none is left, each
batch one idempotent activity call, so a sweep interrupted half-way loses nothing.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import (
        ERASE_EXPIRED,
        RETENTION_WORKFLOW,
        EraseExpiredInput,
        EraseExpiredResult,
        RetentionInput,
        RetentionResult,
    )

MAX_BATCHES = 1000
RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5))


@workflow.defn(name=RETENTION_WORKFLOW)
class RetentionSweep:
    @workflow.run
    async def run(self, request: RetentionInput) -> RetentionResult:
        erased = batches = 0
        while batches < MAX_BATCHES:
            result = await workflow.execute_activity(
                ERASE_EXPIRED,
                EraseExpiredInput(at=workflow.now(), limit=request.batch),
                result_type=EraseExpiredResult,
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=RETRY,
            )
            batches += 1
            erased += len(result.erased)
            if len(result.erased) < request.batch:
                break
        workflow.logger.info("retention sweep erased %d data key(s)", erased)
        return RetentionResult(erased=erased, batches=batches)
