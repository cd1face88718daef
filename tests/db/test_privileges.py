"""The privilege map (adapters/db/privileges.py) against the migrated schema: it names every
table, sequence and function, the database grants exactly it, a new table without an entry
stops the migration, and the runtime role is created safely however many databases migrate at
once."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from typer.testing import CliRunner

from adapters.db import privileges
from adapters.db.migrate import MigrationError, load_migrations, migrate, migrate_dsn
from adapters.db.pool import connect, quote_ident
from adapters.db.privileges import FUNCTIONS, SEQUENCES, TABLES, schema_objects
from adapters.db.roles import RoleError, RuntimeRole, dsn_as, ensure_runtime_role
from readmit.cli.main import app

pytestmark = pytest.mark.db

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
RUNTIME = "readmit_app"


def granted(entry: str) -> tuple[set[str], dict[str, set[str]]]:
    """The table-wide privileges and the column lists of a map entry."""
    table_wide, columns = set(), {}
    for privilege, names in re.findall(r"([A-Z]+)(?: \(([^)]*)\))?", entry):
        if names:
            columns[privilege] = {n.strip() for n in names.split(",")}
        else:
            table_wide.add(privilege)
    return table_wide, columns


@pytest.fixture
async def owner(database_url: str, db_schema: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(database_url, schema=db_schema)
    yield conn
    await conn.close()


async def test_every_object_of_the_schema_is_in_the_map(owner: asyncpg.Connection) -> None:
    """A new table (sequence, function) forces a decision about what the runtime role may do."""
    objects = await schema_objects(owner)
    assert objects.unmapped() == []
    assert objects.unknown() == []  # and the map names nothing that is not there
    assert objects.tables == TABLES.keys() and objects.sequences == SEQUENCES.keys()


async def test_the_runtime_role_holds_exactly_the_map(owner: asyncpg.Connection) -> None:
    for table, entry in TABLES.items():
        table_wide, columns = granted(entry)
        for privilege in TABLE_PRIVILEGES:
            has = await owner.fetchval(
                "SELECT has_table_privilege($1, $2, $3)", RUNTIME, table, privilege
            )
            assert has == (privilege in table_wide), (table, privilege)
        names = await owner.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0"
            " AND NOT attisdropped",
            table,
        )
        for privilege, allowed in columns.items():
            for column in (r["attname"] for r in names):
                has = await owner.fetchval(
                    "SELECT has_column_privilege($1, $2, $3, $4)", RUNTIME, table, column, privilege
                )
                assert has == (column in allowed), (table, column, privilege)
    for sequence in SEQUENCES:
        for privilege in ("USAGE", "SELECT", "UPDATE"):
            query = "SELECT has_sequence_privilege($1, $2, $3)"
            assert not await owner.fetchval(query, RUNTIME, sequence, privilege), sequence


async def test_definer_functions_run_as_the_owner_on_a_pinned_path(
    owner: asyncpg.Connection, db_schema: str
) -> None:
    rows = await owner.fetch(
        """SELECT p.proname, p.prosecdef, p.proconfig, p.oid::regprocedure AS signature,
                  p.proacl IS NOT NULL AND EXISTS (SELECT FROM aclexplode(p.proacl) a
                                                    WHERE a.grantee = 0) AS public_executes,
                  has_function_privilege($1, p.oid, 'EXECUTE') AS runtime_executes
             FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace""",
        RUNTIME,
    )
    assert {r["proname"] for r in rows} == FUNCTIONS.keys()
    for row in rows:
        rule = FUNCTIONS[row["proname"]]
        assert row["prosecdef"] == (rule == "definer"), row["signature"]
        if rule == "definer":
            assert row["proconfig"] == [f"search_path={db_schema}, pg_temp"]
        assert not row["public_executes"], f"PUBLIC may execute {row['signature']}"
        assert row["runtime_executes"] == (rule != "none"), row["signature"]


async def test_a_table_missing_from_the_map_stops_the_migration(
    owner: asyncpg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "0999_sessions.sql").write_text("CREATE TABLE probe_sessions (id bigserial);")
    with_new = [*load_migrations(), *load_migrations(tmp_path)]
    with pytest.raises(MigrationError) as refused:
        await migrate(owner, migrations=with_new)
    assert str(refused.value) == (
        "table probe_sessions, sequence probe_sessions_id_seq of schema "
        f"{await owner.fetchval('SELECT current_schema()')} not in adapters/db/privileges.py: "
        "decide what the runtime role may do with it"
    )
    assert not await owner.fetchval(
        "SELECT has_table_privilege($1, 'probe_sessions', 'SELECT')", RUNTIME
    )
    # one line each in the map, and the next migration grants them
    monkeypatch.setitem(TABLES, "probe_sessions", "SELECT, INSERT")
    monkeypatch.setitem(SEQUENCES, "probe_sessions_id_seq", "USAGE")
    await migrate(owner, migrations=with_new)
    assert await owner.fetchval(
        "SELECT has_table_privilege($1, 'probe_sessions', 'INSERT')", RUNTIME
    )
    assert await owner.fetchval(
        "SELECT has_sequence_privilege($1, 'probe_sessions_id_seq', 'USAGE')", RUNTIME
    )


async def test_a_privilege_taken_out_of_the_map_is_revoked(
    owner: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await owner.fetchval("SELECT has_table_privilege($1, 'cases', 'DELETE')", RUNTIME)
    monkeypatch.setitem(TABLES, "cases", "SELECT")
    monkeypatch.setitem(FUNCTIONS, "record_disclosure", "none")
    await migrate(owner)
    assert not await owner.fetchval("SELECT has_table_privilege($1, 'cases', 'DELETE')", RUNTIME)
    assert not await owner.fetchval(
        "SELECT has_function_privilege($1, 'record_disclosure(text, text, text, text, text,"
        " text, text[])', 'EXECUTE')",
        RUNTIME,
    )


async def test_a_runtime_role_with_an_owners_rights_is_refused(
    owner: asyncpg.Connection,
) -> None:
    me = await owner.fetchval("SELECT current_user")
    with pytest.raises(MigrationError, match=f"the runtime role {me} is the role that migrates"):
        await migrate(owner, runtime=RuntimeRole(me))
    member = f"t_member_{secrets.token_hex(4)}"
    await owner.execute(f"CREATE ROLE {member} NOLOGIN IN ROLE {me}")
    try:
        with pytest.raises(MigrationError, match=f"the runtime role {member} holds the rights of"):
            await migrate(owner, runtime=RuntimeRole(member))
    finally:
        await owner.execute(f"DROP ROLE {member}")
    with pytest.raises(RoleError, match="lower-case letters"):
        RuntimeRole('app"; DROP TABLE case_events; --')


async def test_databases_of_one_cluster_create_the_role_once_together(
    database_url: str,
) -> None:
    """Roles are the cluster's: schemas of two databases migrating at once, all creating the
    same new role, end with that one role and every grant; LOGIN comes only when asked for."""
    role = RuntimeRole(f"t_app_{secrets.token_hex(4)}")
    database = f"t_roles_{secrets.token_hex(4)}"
    admin = await connect(database_url)
    await admin.execute(f"CREATE DATABASE {database}")
    other = urlunsplit(urlsplit(database_url)._replace(path=f"/{database}"))
    targets = [(database_url, f"t_{secrets.token_hex(5)}") for _ in range(4)]
    targets += [(other, f"t_{secrets.token_hex(5)}") for _ in range(2)]
    try:
        await asyncio.gather(
            *(migrate_dsn(dsn, schema=s, create_schema=True, runtime=role) for dsn, s in targets)
        )
        attributes = await admin.fetch(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", role.name
        )
        assert [r["rolcanlogin"] for r in attributes] == [False]
        for dsn, schema in targets:
            conn = await connect(dsn, schema=schema)
            try:
                assert await conn.fetchval(
                    "SELECT has_table_privilege($1, 'case_events', 'SELECT')", role.name
                )
            finally:
                await conn.close()
        # asked for LOGIN, several at once: the role gets it, once, whoever wins
        login = RuntimeRole(role.name, login=True)
        await asyncio.gather(*(migrate_dsn(dsn, schema=s, runtime=login) for dsn, s in targets[:3]))
        assert await admin.fetchval(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", role.name
        )
    finally:
        for dsn, schema in targets:
            if dsn == database_url:
                await admin.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")
        await admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await admin.execute(f"DROP ROLE IF EXISTS {role.name}")
        await admin.close()


async def race(database_url: str, first_sql: str, role: RuntimeRole) -> str:
    """`ensure_runtime_role(role)` while another session's uncommitted `first_sql` holds the
    role's row: it waits for that session, which then commits."""
    first, second = await connect(database_url), await connect(database_url)
    try:
        other = first.transaction()
        await other.start()
        await first.execute(first_sql)
        racing = asyncio.create_task(ensure_runtime_role(second, role))
        pid = second.get_server_pid()
        for _ in range(300):  # until the second session waits for the first
            waiting = await first.fetchval(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid
            )
            if waiting == "Lock":
                break
            await asyncio.sleep(0.01)
        assert waiting == "Lock"
        await other.commit()
        return await racing
    finally:
        await first.close()
        await second.close()


async def test_role_changes_racing_another_database_are_taken_or_tried_again(
    database_url: str,
) -> None:
    """The races the existence check cannot see: another migration's CREATE ROLE commits
    between this one's check and its own CREATE (unique_violation on pg_authid), or its ALTER
    ROLE commits under this one's (tuple concurrently updated)."""
    role = RuntimeRole(f"t_app_{secrets.token_hex(4)}")
    admin = await connect(database_url)
    try:
        assert await race(database_url, f"CREATE ROLE {role.name} NOLOGIN", role) == "exists"
        given = RuntimeRole(role.name, password="s3cret")
        assert await race(database_url, f"ALTER ROLE {role.name} LOGIN", given) == "given LOGIN"
        assert await admin.fetchval(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", role.name
        )
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {role.name}")
        await admin.close()


async def test_readmit_db_migrate_names_the_role_and_refuses_a_non_owner(
    database_url: str, runtime_dsn: str, db_schema: str
) -> None:
    def cli(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["db", "migrate", *args])
        return result.exit_code, result.output

    code, output = await asyncio.to_thread(
        cli, "--database-url", database_url, "--schema", db_schema
    )
    assert code == 0, output
    tables, sequences = len(TABLES), len(SEQUENCES)
    assert re.search(
        rf"^runtime role readmit_app: exists; privileges on {tables} tables, {sequences} "
        r"sequences, \d+ functions$",
        output,
        re.M,
    ), output
    code, output = await asyncio.to_thread(cli, "--database-url", runtime_dsn)
    assert code == 1
    assert output.strip() == (
        f"readmit: readmit_app does not own the tables of schema '{db_schema}': migrate as "
        "their owner (READMIT_MIGRATION_DATABASE_URL)"
    )


def test_the_map_is_plain_data_that_grant_can_read() -> None:
    """Adding a table is one line of `TABLES` (its sequence and functions in the others)."""
    for entry in [*TABLES.values(), *SEQUENCES.values()]:
        assert privileges._PRIVILEGES.match(entry), entry
    assert set(FUNCTIONS.values()) <= {"definer", "caller", "none"}
    with pytest.raises(privileges.PrivilegeError, match="unreadable privileges"):
        privileges._grants("TABLE", "t", "SELECT; DROP TABLE case_events", "readmit_app")


async def test_a_schema_where_everyone_may_create_is_refused(database_url: str) -> None:
    """PostgreSQL 14's `public` lets every role create objects; a runtime role that may create
    could own what it then alters. A migrating role that cannot revoke that stops, saying how."""
    schema, migrator = f"t_open_{secrets.token_hex(4)}", f"t_mig_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f"CREATE ROLE {migrator} LOGIN")
    await admin.execute(f"CREATE SCHEMA {schema}")  # owned by the superuser, as 14's public is
    await admin.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO PUBLIC")
    as_migrator = dsn_as(database_url, migrator)  # a socket DSN (embedded server) too
    try:
        conn = await connect(as_migrator, schema=schema)
        try:
            with pytest.raises(Exception, match=f"may create objects in schema {schema}"):
                await migrate(conn, runtime=RuntimeRole(RUNTIME))
        finally:
            await conn.close()
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.execute(f"DROP OWNED BY {migrator}")
        await admin.execute(f"DROP ROLE {migrator}")
        await admin.close()
