"""The disclosure log: who saw or exported which case's personal data, when, and why.

Written for every response that returns personal data; append-only in the database itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from adapters.audit.collect import log_disclosure
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


async def entries(
    pool: asyncpg.Pool, *, case_id: str | None = None, user_id: str | None = None, limit: int = 500
) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT id, at, user_id, role, state, case_id, purpose, endpoint, fields"
        " FROM disclosure_log WHERE ($1::text IS NULL OR case_id = $1)"
        " AND ($2::text IS NULL OR user_id = $2) ORDER BY id DESC LIMIT $3",
        case_id,
        user_id,
        limit,
    )
