"""The asyncpg connection pool: one per process, bound to a schema, jsonb decoded to dicts.

The composition root (worker, API, CLI, tests) builds the pool once and passes it on; nothing
else connects to PostgreSQL on its own.

Connections go back to the pool without asyncpg's default reset query (`pg_advisory_unlock_all;
CLOSE ALL; UNLISTEN *; RESET ALL`), which costs one more round trip per pooled call and so
halves the rate of short statements. asyncpg still rolls back a transaction left open and drops
listener callbacks; code using the pool must therefore leave no session state behind: use
`SET LOCAL` inside transactions, transaction-level advisory locks, and `listen_positions`
(which UNLISTENs on exit) rather than a bare LISTEN.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

APPLICATION_NAME = "readmit"


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (schema name) the way PostgreSQL's quote_ident does."""
    if "\x00" in name:
        raise ValueError("identifier contains U+0000")
    return '"' + name.replace('"', '""') + '"'


def server_settings(schema: str | None) -> dict[str, str]:
    """Per-connection settings: the application name and, when given, the only schema searched."""
    settings = {"application_name": APPLICATION_NAME}
    if schema is not None:
        settings["search_path"] = quote_ident(schema)
    return settings


async def init_connection(conn: asyncpg.Connection) -> None:
    """Decode json/jsonb to Python values and encode Python values as JSON text."""
    for type_name in ("jsonb", "json"):
        await conn.set_type_codec(
            type_name, encoder=_dumps, decoder=json.loads, schema="pg_catalog", format="text"
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release hook: nothing beyond asyncpg's own cleanup (see the module docstring)."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def create_pool(
    dsn: str,
    *,
    schema: str | None = None,
    min_size: int = 1,
    max_size: int = 10,
    command_timeout: float | None = 60.0,
) -> asyncpg.Pool:
    """Open a pool whose connections search only `schema` (when given) and decode jsonb."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout,
        server_settings=server_settings(schema),
        init=init_connection,
        reset=_keep_session,
    )
    assert pool is not None
    return pool


async def connect(
    dsn: str, *, schema: str | None = None, connect_seconds: float = 10.0
) -> asyncpg.Connection:
    """One connection with the same settings as the pool's (for CLI commands and migrations)."""
    conn = await asyncpg.connect(
        dsn, timeout=connect_seconds, server_settings=server_settings(schema)
    )
    await init_connection(conn)
    return conn
