"""Notices become durable outbox rows, one per recipient and channel, before anything is sent.

Recipients come from the directory (`officers`) by state and role. Every officer gets the notice
in the in-app inbox, and by e-mail or webhook where the directory gives an address. If nobody
holds that role in that state, the notice goes to the role's shared inbox (`@PL:supervisor`), so
no reminder or escalation is ever dropped for want of a recipient. The dispatcher
(`activities/dispatch.py`) sends the e-mail and webhook rows.
"""

from __future__ import annotations

from collections.abc import Collection

import asyncpg
import structlog
from temporalio import activity

from domain.notices import Notice
from readmit.logs import bind_case
from workflows.contracts import SEND_NOTICES, NoticesInput, NoticesResult

log = structlog.get_logger(__name__)

_RECIPIENTS = """
SELECT user_id, email, webhook_url FROM officers
WHERE state = $1 AND role = $2 AND active ORDER BY user_id
"""
_INSERT = """
INSERT INTO notifications
    (key, notice_key, case_id, recipient, state, role, channel, kind, subject, payload, status)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::text[])
ON CONFLICT (key) DO NOTHING
"""


def group_inbox(state: str, role: str) -> str:
    """The shared inbox of a role in a state, used when the directory names nobody."""
    return f"@{state}:{role}"


class NotificationActivities:
    def __init__(
        self, pool: asyncpg.Pool, channels: Collection[str] = ("inbox", "email", "webhook")
    ) -> None:
        self.pool = pool
        self.channels = frozenset(channels) | {"inbox"}

    @activity.defn(name=SEND_NOTICES)
    async def send_notices(self, request: NoticesInput) -> NoticesResult:
        rows: list[tuple[object, ...]] = []
        async with self.pool.acquire() as conn, conn.transaction():
            for notice in request.notices:
                recipients = await conn.fetch(_RECIPIENTS, notice.state, notice.role)
                payload = notice.model_dump(mode="json")
                targets = [(group_inbox(notice.state, notice.role), "inbox")]
                if recipients:
                    targets = []
                    for officer in recipients:
                        targets.append((officer["user_id"], "inbox"))
                        if officer["email"] and "email" in self.channels:
                            targets.append((officer["user_id"], "email"))
                        if officer["webhook_url"] and "webhook" in self.channels:
                            targets.append((officer["user_id"], "webhook"))
                rows.extend(_row(notice, who, channel, payload) for who, channel in targets)
            columns = list(zip(*rows, strict=True)) if rows else [[] for _ in range(11)]
            result = await conn.execute(_INSERT, *[list(c) for c in columns])
        written = int(result.split()[-1])
        info = activity.info()
        states = sorted({n.state for n in request.notices})
        bind_case(info.workflow_id or "", info.workflow_id or "", ",".join(states))
        log.info(
            "notices written",
            notices=len(request.notices),
            rows=written,
        )
        return NoticesResult(written=written)


def _row(
    notice: Notice, recipient: str, channel: str, payload: dict[str, object]
) -> tuple[object, ...]:
    status = "delivered" if channel == "inbox" else "pending"
    return (
        f"{notice.key}:{recipient}:{channel}",
        notice.key,
        notice.case_id,
        recipient,
        notice.state,
        notice.role,
        channel,
        notice.kind,
        notice.subject,
        payload,
        status,
    )
