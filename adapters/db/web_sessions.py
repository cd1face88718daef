"""The `web_sessions` table: the server's record of every signed-in browser.

The browser holds a random token; the table holds its SHA-256 and who it signed in, until it
expires or is revoked (sign-out). Nothing else reads or writes the table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import asyncpg

Via = Literal["directory", "token", "oidc"]


@dataclass(frozen=True, slots=True)
class SessionRow:
    user_id: str
    role: str
    state: str | None
    states: tuple[str, ...]
    via: str
    expires_at: datetime


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def open_session(
    pool: asyncpg.Pool,
    token: str,
    *,
    user_id: str,
    role: str,
    state: str | None,
    states: tuple[str, ...],
    via: Via,
    lifetime: timedelta,
) -> None:
    """Record a new session under the hash of `token` (a fresh random value)."""
    await pool.execute(
        "INSERT INTO web_sessions (id_hash, user_id, role, state, states, via, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, now() + $7::interval)",
        token_hash(token),
        user_id,
        role,
        state,
        list(states),
        via,
        lifetime,
    )


async def find_session(pool: asyncpg.Pool, token: str) -> SessionRow | None:
    """The live session of `token`: None when unknown, revoked or expired."""
    row = await pool.fetchrow(
        "SELECT user_id, role, state, states, via, expires_at FROM web_sessions"
        " WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > now()",
        token_hash(token),
    )
    if row is None:
        return None
    return SessionRow(
        user_id=row["user_id"],
        role=row["role"],
        state=row["state"],
        states=tuple(row["states"]),
        via=row["via"],
        expires_at=row["expires_at"],
    )


async def revoke_session(pool: asyncpg.Pool, token: str) -> bool:
    """End the session of `token` now (sign-out); False when it was not live."""
    done = await pool.execute(
        "UPDATE web_sessions SET revoked_at = now()"
        " WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > now()",
        token_hash(token),
    )
    return bool(done.endswith(" 1"))


async def purge_sessions(pool: asyncpg.Pool, *, older_than: timedelta) -> int:
    """Forget sessions that ended (expired or revoked) more than `older_than` ago."""
    done = await pool.execute(
        "DELETE FROM web_sessions WHERE coalesce(revoked_at, expires_at) < now() - $1::interval",
        older_than,
    )
    return int(done.rsplit(" ", 1)[1])
