"""Migrations: ordered, idempotent, checksummed, race-free, schema-relative; and `readmit db`."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import typer
from typer.testing import CliRunner, Result

from adapters.db.eventstore import EventStore
from adapters.db.migrate import MIGRATIONS_DIR, MigrationError, load_migrations, migrate
from adapters.db.pool import connect, quote_ident
from domain.stored import NewEvent
from readmit.cli import db as db_cli


@pytest.fixture
async def empty_schema(database_url: str) -> AsyncIterator[str]:
    schema = f"t_{secrets.token_hex(6)}"
    conn = await connect(database_url)
    await conn.execute(f"CREATE SCHEMA {quote_ident(schema)}")
    yield schema
    await conn.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
    await conn.close()


def cli(*args: str) -> Result:
    app = typer.Typer()
    db_cli.register(app)
    return CliRunner().invoke(app, ["db", *args])


def test_migration_files_are_numbered_and_never_name_a_schema() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].label == "0001_event_store"
    for path in MIGRATIONS_DIR.glob("*.sql"):
        assert "public." not in path.read_text().lower(), path.name


def test_duplicate_migration_numbers_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 2;")
    (tmp_path / "notes.txt").write_text("ignored")
    with pytest.raises(MigrationError, match="0001"):
        load_migrations(tmp_path)


async def test_migrating_again_applies_nothing(database_url: str, db_schema: str) -> None:
    conn = await connect(database_url, schema=db_schema)
    try:
        outcomes = await migrate(conn)
        assert {o.status for o in outcomes} == {"already applied"}
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["checksum"]) for r in rows] == [
            (m.version, m.checksum) for m in load_migrations()
        ]
    finally:
        await conn.close()


async def test_changed_applied_migration_is_an_error(database_url: str, db_schema: str) -> None:
    changed = [dataclasses.replace(m, checksum="0" * 64) for m in load_migrations()]
    conn = await connect(database_url, schema=db_schema)
    try:
        with pytest.raises(MigrationError, match="0001_event_store was changed"):
            await migrate(conn, migrations=changed)
        await conn.execute("INSERT INTO schema_migrations VALUES (9999, 'future', 'x')")
        with pytest.raises(MigrationError, match="does not know"):
            await migrate(conn)
    finally:
        await conn.close()


async def test_failed_migration_leaves_nothing_behind(database_url: str, empty_schema: str) -> None:
    good = load_migrations()
    bad = dataclasses.replace(
        good[0], version=good[-1].version + 1, name="bad"
    )  # re-creates tables
    conn = await connect(database_url, schema=empty_schema)
    try:
        with pytest.raises(asyncpg.DuplicateTableError):
            await migrate(conn, migrations=[*good, bad])
        versions = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in versions] == [m.version for m in good]
    finally:
        await conn.close()


async def test_processes_starting_together_apply_each_migration_once(
    database_url: str, empty_schema: str
) -> None:
    conns = [await connect(database_url, schema=empty_schema) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
    finally:
        for c in conns:
            await c.close()
    applied = [o.migration.label for outcomes in results for o in outcomes if o.status == "applied"]
    assert sorted(applied) == [m.label for m in load_migrations()]


async def test_objects_land_in_the_search_path_schema(database_url: str, db_schema: str) -> None:
    conn = await connect(database_url)
    try:
        found = await conn.fetch(
            """SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE p.proname = 'append_case_events'
               UNION ALL
               SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relname IN ('case_events', 'schema_migrations') AND n.nspname = $1""",
            db_schema,
        )
        assert [r["nspname"] for r in found].count(db_schema) == 3
    finally:
        await conn.close()


async def test_a_search_path_without_schema_is_refused(database_url: str) -> None:
    conn = await connect(database_url, schema=f"missing_{secrets.token_hex(4)}")
    try:
        with pytest.raises(MigrationError, match="no schema"):
            await migrate(conn)
    finally:
        await conn.close()


async def test_cli_migrate_reports_each_migration(database_url: str) -> None:
    schema = f"t_{secrets.token_hex(6)}"
    try:
        first = await asyncio.to_thread(
            cli, "migrate", "--database-url", database_url, "--schema", schema
        )
        assert first.exit_code == 0, first.output
        assert "applied  0001_event_store" in first.stdout
        again = await asyncio.to_thread(
            cli, "migrate", "--database-url", database_url, "--schema", schema
        )
        assert again.exit_code == 0, again.output
        assert "already applied  0001_event_store" in again.stdout
        assert "0 applied" in again.stdout
    finally:
        conn = await connect(database_url)
        await conn.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")
        await conn.close()


@pytest.mark.parametrize(
    "dsn", ["notadsn", "postgresql://postgres@127.0.0.1:1/x", "postgresql://u@host.invalid/x"]
)
def test_cli_migrate_exits_2_with_one_line_on_unusable_database(dsn: str) -> None:
    result = cli("migrate", "--database-url", dsn)
    assert result.exit_code == 2
    assert result.stderr.startswith("readmit: cannot connect to PostgreSQL: ")
    assert result.stderr.count("\n") == 1


async def test_cli_verify_exits_1_on_a_broken_chain(
    pool: asyncpg.Pool, database_url: str, db_schema: str
) -> None:
    store = EventStore(pool)
    for stream_id in ("CASE-1", "CASE-2"):
        events = [
            NewEvent(event_id=uuid.uuid4(), type="X", schema_version=1, data={"n": i})
            for i in range(3)
        ]
        await store.append(stream_id, 0, events)
    args = ("--database-url", database_url, "--schema", db_schema)
    ok = await asyncio.to_thread(cli, "verify", *args)
    assert (ok.exit_code, ok.stdout.strip()) == (0, "2 of 2 streams intact (6 events)")
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE case_events DISABLE TRIGGER USER")
        await conn.execute(
            "UPDATE case_events SET data = '{\"n\": 7}' WHERE stream_id = 'CASE-2' AND version = 2"
        )
        await conn.execute("ALTER TABLE case_events ENABLE TRIGGER USER")
    broken = await asyncio.to_thread(cli, "verify", *args)
    assert broken.exit_code == 1
    assert "BROKEN  CASE-2  at version 2" in broken.stdout
    one = await asyncio.to_thread(cli, "verify", "CASE-1", *args)
    assert (one.exit_code, one.stdout.strip()) == (0, "1 of 1 streams intact (3 events)")
    missing = await asyncio.to_thread(cli, "verify", "CASE-9", *args)
    assert missing.exit_code == 1
