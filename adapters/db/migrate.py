"""Versioned SQL migrations: `NNNN_name.sql` files applied in order, once, into the current schema.

Each file runs in its own transaction and is recorded in `schema_migrations` with its SHA-256;
an applied file whose bytes changed is an error (write a new migration instead). A session
advisory lock keyed on the schema name serialises processes that start together.

Migrations are the owner's: a role holding the rights of the ledger's owner (or, on an empty
schema, allowed to create in it) applies the pending files, then makes sure the runtime role
exists (`adapters/db/roles.py`) and grants it exactly the privilege map
(`adapters/db/privileges.py`), on every run. Any other role, such as the runtime role itself
when the API or a worker starts, only checks that nothing is pending, and is refused if
something is: it could not apply it.
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
from adapters.db.privileges import Granted, PrivilegeError, apply_privileges, owner_rights
from adapters.db.roles import RoleError, RoleOutcome, RuntimeRole, ensure_runtime_role

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


class OwnerRightsError(MigrationError):
    """Production's API or worker connected as a role with the owner's rights."""


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


@dataclass(frozen=True, slots=True)
class RuntimeOutcome:
    """What the owner's migration did for the runtime role: the role, then its grants."""

    role: RoleOutcome
    granted: Granted


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
    runtime: RuntimeRole | None = None,
    on_runtime: Callable[[RuntimeOutcome], None] | None = None,
    as_owner: bool = False,
) -> list[MigrationOutcome]:
    """Apply the pending migrations into `current_schema()`, idempotently and race-free, then
    grant the runtime role (`runtime`, default `readmit_app` without LOGIN) its privileges.

    A role without the owner's rights applies nothing: it gets the outcomes when nothing is
    pending and a `MigrationError` otherwise, or always when `as_owner` says it had to be the
    owner (`readmit db migrate`)."""
    migrations = load_migrations() if migrations is None else migrations
    schema = await conn.fetchval("SELECT current_schema()")
    if schema is None:
        path = await conn.fetchval("SHOW search_path")
        raise MigrationError(f"no schema of search_path {path!r} exists")
    await conn.execute("SELECT pg_advisory_lock($1, hashtext($2))", _LOCK_CLASS, schema)
    try:
        if not await _may_migrate(conn):
            return await _check_current(conn, schema, migrations, as_owner, on_outcome)
        await conn.execute(_CREATE_LEDGER)
        applied = await _applied(conn, schema, migrations)
        outcomes = []
        for migration in migrations:
            outcome = await _apply_one(conn, migration, applied.get(migration.version))
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        try:
            role = runtime or RuntimeRole()
            done = RuntimeOutcome(
                await ensure_runtime_role(conn, role), await apply_privileges(conn, role.name)
            )
        except (RoleError, PrivilegeError) as error:
            raise MigrationError(str(error)) from None
        if on_runtime is not None:
            on_runtime(done)
        return outcomes
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, hashtext($2))", _LOCK_CLASS, schema)


async def _may_migrate(conn: asyncpg.Connection) -> bool:
    """The connected role has the rights of the ledger's owner, or may create the ledger."""
    return bool(
        await conn.fetchval(
            """SELECT CASE WHEN to_regclass('schema_migrations') IS NULL
                           THEN has_schema_privilege(current_schema(), 'CREATE')
                           ELSE pg_has_role(current_user,
                                            (SELECT relowner FROM pg_class
                                              WHERE oid = to_regclass('schema_migrations')),
                                            'USAGE') END"""
        )
    )


async def _applied(
    conn: asyncpg.Connection, schema: str, migrations: list[Migration]
) -> dict[int, asyncpg.Record]:
    """The ledger's rows by version; versions this code does not know are an error."""
    applied = {
        r["version"]: r
        for r in await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
    }
    known = {m.version for m in migrations}
    unknown = sorted(v for v in applied if v not in known)
    if unknown:
        raise MigrationError(f"schema {schema!r} has migrations this code does not know: {unknown}")
    return applied


async def _check_current(
    conn: asyncpg.Connection,
    schema: str,
    migrations: list[Migration],
    as_owner: bool,
    on_outcome: Callable[[MigrationOutcome], None] | None,
) -> list[MigrationOutcome]:
    """The outcomes of a schema that is current, for a role that may not migrate it."""
    user = await conn.fetchval("SELECT current_user")
    if as_owner:
        raise MigrationError(
            f"{user} does not own the tables of schema {schema!r}: migrate as their owner "
            "(READMIT_MIGRATION_DATABASE_URL)"
        )
    ledger = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied = await _applied(conn, schema, migrations) if ledger else {}
    pending = [m.label for m in migrations if m.version not in applied]
    if pending:
        raise MigrationError(
            f"schema {schema!r} lacks {len(pending)} migration(s) ({pending[0]}…) and {user} "
            "may not apply them: run `readmit db migrate` as the owner first"
        )
    outcomes = []
    for migration in migrations:
        outcome = await _apply_one(conn, migration, applied[migration.version])
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


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
    runtime: RuntimeRole | None = None,
    refuse_owner: bool = False,
) -> list[MigrationOutcome]:
    """Connect to `dsn`, optionally create `schema`, and migrate it (the default schema if None):
    as the owner, granting `runtime` its privileges; as another role, checking it is current.
    `refuse_owner` (production's API and workers) raises `OwnerRightsError` instead when the
    role has the owner's rights: those processes run as the runtime role, never the owner."""
    conn = await connect(dsn, schema=schema)
    try:
        if refuse_owner and (why := await owner_rights(conn)):
            raise OwnerRightsError(
                f"DATABASE_URL logs in with the owner's rights ({why}): in production the API "
                "and the workers run as the runtime role; point DATABASE_URL at it and migrate "
                "with `readmit db migrate` and READMIT_MIGRATION_DATABASE_URL (the owner's)"
            )
        if schema is not None and create_schema:
            await create_schema_if_missing(conn, schema)
        return await migrate(conn, on_outcome=on_outcome, runtime=runtime)
    finally:
        await conn.close()


async def create_schema_if_missing(conn: asyncpg.Connection, schema: str) -> None:
    """CREATE SCHEMA unless it exists (IF NOT EXISTS alone would still need the CREATE right on
    the database, which the runtime role has not)."""
    if not await conn.fetchval("SELECT to_regnamespace($1) IS NOT NULL", quote_ident(schema)):
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
