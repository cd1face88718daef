"""Versioned SQL migrations: `NNNN_name.sql` files applied in order, once, into the current schema.

Each file runs in its own transaction and is recorded in `schema_migrations` with its SHA-256;
an applied file whose bytes changed is an error (write a new migration instead). A session
advisory lock keyed on the schema name serialises processes that start together.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import asyncpg

from adapters.db.pool import connect, quote_ident

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_CLASS = 1919250277  # first key of the advisory lock; the second is the schema's hash

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    """The database and the migration files disagree; nothing further was applied."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str = field(repr=False)
    checksum: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True, slots=True)
class MigrationOutcome:
    migration: Migration
    status: Literal["applied", "already applied"]
    seconds: float


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files of `directory`, in version order; duplicate versions are an error."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.iterdir()):
        match = _FILE_NAME.match(path.name)
        if match is None:
            continue
        raw = path.read_bytes()
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations numbered {version:04d}")
        found[version] = Migration(
            version, match.group(2), raw.decode("utf-8"), hashlib.sha256(raw).hexdigest()
        )
    return [found[v] for v in sorted(found)]


async def migrate(
    conn: asyncpg.Connection,
    *,
    migrations: list[Migration] | None = None,
    on_outcome: Callable[[MigrationOutcome], None] | None = None,
) -> list[MigrationOutcome]:
    """Apply the pending migrations into `current_schema()`, idempotently and race-free."""
    migrations = load_migrations() if migrations is None else migrations
    schema = await conn.fetchval("SELECT current_schema()")
    if schema is None:
        path = await conn.fetchval("SHOW search_path")
        raise MigrationError(f"no schema of search_path {path!r} exists")
    await conn.execute("SELECT pg_advisory_lock($1, hashtext($2))", _LOCK_CLASS, schema)
    try:
        await conn.execute(_CREATE_LEDGER)
        applied = {
            r["version"]: r
            for r in await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        }
        known = {m.version for m in migrations}
        unknown = sorted(v for v in applied if v not in known)
        if unknown:
            raise MigrationError(
                f"schema {schema!r} has migrations this code does not know: {unknown}"
            )
        outcomes = []
        for migration in migrations:
            outcome = await _apply_one(conn, migration, applied.get(migration.version))
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        return outcomes
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, hashtext($2))", _LOCK_CLASS, schema)


async def _apply_one(
    conn: asyncpg.Connection, migration: Migration, recorded: asyncpg.Record | None
) -> MigrationOutcome:
    started = time.perf_counter()
    if recorded is not None:
        if recorded["checksum"] != migration.checksum:
            raise MigrationError(
                f"migration {migration.label} was changed after it was applied "
                f"(recorded sha256 {recorded['checksum'][:12]}…, file {migration.checksum[:12]}…)"
            )
        return MigrationOutcome(migration, "already applied", time.perf_counter() - started)
    async with conn.transaction():
        await conn.execute(migration.sql)
        await conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            migration.version,
            migration.name,
            migration.checksum,
        )
    return MigrationOutcome(migration, "applied", time.perf_counter() - started)


async def migrate_dsn(
    dsn: str,
    *,
    schema: str | None = None,
    create_schema: bool = False,
    on_outcome: Callable[[MigrationOutcome], None] | None = None,
) -> list[MigrationOutcome]:
    """Connect to `dsn`, optionally create `schema`, and migrate it (the default schema if None)."""
    conn = await connect(dsn, schema=schema)
    try:
        if schema is not None and create_schema:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        return await migrate(conn, on_outcome=on_outcome)
    finally:
        await conn.close()
