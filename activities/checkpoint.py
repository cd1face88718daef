"""The audit checkpoint as an activity: read every case's head, sign, hand to the sinks."""

from __future__ import annotations

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.audit.checkpoint import take_checkpoint
from adapters.audit.checkpoint_sinks import CheckpointPublisher
from workflows.contracts import TAKE_CHECKPOINT, CheckpointResult, TakeCheckpointInput

log = structlog.get_logger(__name__)


class CheckpointActivities:
    def __init__(self, pool: asyncpg.Pool, publisher: CheckpointPublisher | None) -> None:
        self.pool = pool
        self.publisher = publisher

    @activity.defn(name=TAKE_CHECKPOINT)
    async def take_checkpoint(self, request: TakeCheckpointInput) -> CheckpointResult:
        if self.publisher is None:
            raise ApplicationError(
                "no checkpoint sink on this worker: set READMIT_AUDIT_CHECKPOINT_DIR or "
                "READMIT_AUDIT_CHECKPOINT_WEBHOOK_URL",
                type="CheckpointSinkMissing",
                non_retryable=True,
            )
        signed = await take_checkpoint(
            self.pool, self.publisher.key, lambda done, _total: activity.heartbeat(done)
        )
        delivered = await self.publisher.deliver(signed)
        checkpoint = signed.checkpoint
        log.info(
            "audit checkpoint delivered",
            global_position=checkpoint.global_position,
            cases=len(checkpoint.streams),
            merkle_root=checkpoint.merkle_root,
            delivered=list(delivered),
        )
        return CheckpointResult(
            global_position=checkpoint.global_position,
            cases=len(checkpoint.streams),
            merkle_root=checkpoint.merkle_root,
            created_at=checkpoint.created_at,
            delivered=delivered,
        )
