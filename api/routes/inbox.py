"""The caller's in-app inbox: the `inbox` rows of the notification outbox addressed to the caller
or to the shared inbox of its role in its state(s) (`@PL:officer`), newest first.

Only notices about cases known to the state they are addressed to (`disclosed_to_sql`): the
requested state hears nothing of a case before it is submitted, whatever notice may exist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from adapters.db.case_queries import disclosed_to_sql
from adapters.notices import group_inbox
from api.auth import ALL_STATES, Principal
from api.deps import PrincipalDep, ServicesDep
from api.problems import Problem

router = APIRouter(prefix="/inbox", tags=["inbox"])
MAX_ID = 2**63 - 1

_COLUMNS = "id, case_id, recipient, state, role, kind, subject, payload, created_at, read_at"
_KNOWN = disclosed_to_sql("notifications.case_id", "notifications.state")
_LIST = f"""
SELECT {_COLUMNS} FROM notifications
WHERE channel = 'inbox' AND recipient = ANY($1::text[]) AND {_KNOWN}
  AND ($2::bigint IS NULL OR id < $2) AND (NOT $3 OR read_at IS NULL)
ORDER BY id DESC LIMIT $4
"""
_MARK_READ = f"""
UPDATE notifications SET read_at = coalesce(read_at, now())
WHERE id = $1 AND channel = 'inbox' AND recipient = ANY($2::text[]) AND {_KNOWN}
RETURNING {_COLUMNS}
"""
_UNREAD = f"""
SELECT count(*) FROM notifications
WHERE channel = 'inbox' AND recipient = ANY($1::text[]) AND read_at IS NULL AND {_KNOWN}
"""


class InboxItem(BaseModel):
    id: int
    case_id: str
    recipient: str
    state: str
    role: str
    kind: str
    subject: str
    payload: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    unread: bool


class InboxPage(BaseModel):
    items: list[InboxItem]
    next_cursor: str | None


def recipients(caller: Principal) -> list[str]:
    """The caller's own id and its role's shared inbox in each of its states."""
    states = sorted(s for s in caller.states if s != ALL_STATES)
    return [caller.user_id, *(group_inbox(state, caller.role) for state in states)]


async def unread_count(pool: asyncpg.Pool, caller: Principal) -> int:
    """How many of the caller's inbox notifications are unread (the pages' header shows it)."""
    return int(await pool.fetchval(_UNREAD, recipients(caller)) or 0)


def _item(row: asyncpg.Record) -> InboxItem:
    return InboxItem(**dict(row), unread=row["read_at"] is None)


@router.get("", response_model=InboxPage, summary="The caller's notifications, newest first")
async def inbox(
    services: ServicesDep,
    caller: PrincipalDep,
    unread: Annotated[bool, Query(description="only notifications not yet read")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None,
        Query(
            pattern=r"^[1-9][0-9]{0,17}$",
            description="`next_cursor` of the previous page",
        ),
    ] = None,
) -> InboxPage:
    rows = await services.pool.fetch(
        _LIST, recipients(caller), int(cursor) if cursor else None, unread, limit + 1
    )
    more = len(rows) > limit
    items = [_item(row) for row in rows[:limit]]
    return InboxPage(items=items, next_cursor=str(items[-1].id) if more else None)


@router.post(
    "/{notification_id}/read",
    response_model=InboxItem,
    summary="Mark one of the caller's notifications read",
    responses={404: {"description": "no such notification in the caller's inbox (problem+json)"}},
)
async def mark_read(
    notification_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    services: ServicesDep,
    caller: PrincipalDep,
) -> InboxItem:
    row = await services.pool.fetchrow(_MARK_READ, notification_id, recipients(caller))
    if row is None:
        raise Problem(
            404,
            "Not found",
            f"no notification {notification_id} in your inbox",
            type_="notification-not-found",
        )
    return _item(row)
