"""The disclosure log: who saw or exported which case's personal data, when, and why.

Written for every response that returns personal data: one row for a case's own view, one row
naming every case shown for a list or dashboard (`record_shown`); append-only in the database
itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from adapters.audit.collect import log_disclosure, log_shown
from api.auth import Principal


async def record(
    pool: asyncpg.Pool,
    caller: Principal,
    case_id: str,
    *,
    purpose: str,
    endpoint: str,
    fields: Sequence[str] = ("person",),
) -> None:
    await log_disclosure(
        pool, caller.user_id, caller.role, case_id, purpose, endpoint, fields, caller.state
    )


async def record_shown(
    pool: asyncpg.Pool,
    caller: Principal,
    case_ids: Sequence[str],
    *,
    purpose: str,
    endpoint: str,
    fields: Sequence[str] = ("person_summary",),
) -> None:
    """One row for the request, naming every case it showed (a list, a dashboard)."""
    await log_shown(
        pool, caller.user_id, caller.role, case_ids, purpose, endpoint, fields, caller.state
    )


async def entries(
    pool: asyncpg.Pool, *, case_id: str | None = None, user_id: str | None = None, limit: int = 500
) -> list[asyncpg.Record]:
    """The newest rows first; `case_ids` names every case a row is about (its one `case_id`,
    or the cases a list showed), and with `case_id` given, the rows that name it."""
    return await pool.fetch(
        "SELECT id, at, user_id, role, state, case_id,"
        " CASE WHEN case_id IS NULL THEN case_ids ELSE ARRAY[case_id] END AS case_ids,"
        " purpose, endpoint, fields FROM disclosure_log"
        " WHERE ($1::text IS NULL OR case_id = $1 OR case_ids @> ARRAY[$1]::text[])"
        " AND ($2::text IS NULL OR user_id = $2) ORDER BY id DESC LIMIT $3",
        case_id,
        user_id,
        limit,
    )
