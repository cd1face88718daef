"""Retention as an activity: find the cases whose retention has ended and erase their keys."""

from __future__ import annotations

import structlog
from temporalio import activity

from adapters.protection.vault import PersonalDataVault
from workflows.contracts import ERASE_EXPIRED, EraseExpiredInput, EraseExpiredResult

log = structlog.get_logger(__name__)


class RetentionActivities:
    def __init__(self, vault: PersonalDataVault) -> None:
        self.vault = vault

    @activity.defn(name=ERASE_EXPIRED)
    async def erase_expired(self, request: EraseExpiredInput) -> EraseExpiredResult:
        expired = await self.vault.expired(request.at, limit=request.limit)
        erased = await self.vault.erase(expired, request.at, "retention period ended")
        for case_id in erased:
            log.info("personal data erased", case_id=case_id, reason="retention")
        return EraseExpiredResult(erased=tuple(erased))
