"""Notices become durable outbox rows, one per recipient and channel, before anything is sent.

Recipients come from the directory (`officers`) by state and role. Every officer gets the notice
in the in-app inbox, and by e-mail or webhook where the directory gives an address. If nobody
holds that role in that state, the notice goes to the role's shared inbox (`@PL:supervisor`), so
no reminder or escalation is ever dropped for want of a recipient. The dispatcher
(`adapters/outbox.py`) sends the e-mail and webhook rows.
"""

from __future__ import annotations

from collections.abc import Collection

import asyncpg
import structlog
from temporalio import activity

from adapters.logs import bind_case
from adapters.notices import RECORD_NOTICES, record_notices
from workflows.contracts import SEND_NOTICES, NoticesInput, NoticesResult

log = structlog.get_logger(__name__)


class NotificationActivities:
    def __init__(
        self, pool: asyncpg.Pool, channels: Collection[str] = ("inbox", "email", "webhook")
    ) -> None:
        self.pool = pool
        self.channels = frozenset(channels) | {"inbox"}

    @activity.defn(name=SEND_NOTICES)
    async def send_notices(self, request: NoticesInput) -> NoticesResult:
        """Cases started before notices were written with their events still send them here."""
        call = record_notices(request.notices, self.channels)
        written = await self.pool.fetchval(RECORD_NOTICES, *call.args)
        info = activity.info()
        states = sorted({n.state for n in request.notices})
        bind_case(info.workflow_id or "", info.workflow_id or "", ",".join(states))
        log.info("notices written", notices=len(request.notices), rows=written)
        return NoticesResult(written=written)
