"""The runtime role against a real PostgreSQL: every way of rewriting history is refused by the
privilege system itself (not by a trigger the role could switch off), and every adapter the
processes use still does its work logged in as it.

Finding 3 of issue 15: the application's role owned every table, so it could disable the
triggers, replace their function and rewrite events. The API and workers now log in as a role
that owns nothing (adapters/db/privileges.py).
"""

from __future__ import annotations

import os
import random
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from generators import generate, random_plan
from runtime_support import RUNTIME_ROLE

from adapters.audit.collect import disclosures, log_disclosure, log_shown
from adapters.db.case_queries import next_case_id
from adapters.db.eventstore import EventStore, SqlCall
from adapters.db.pool import connect
from adapters.db.projector import CaseProjector
from adapters.directory import Officer, import_directory, rewrap_webhook_secrets
from adapters.notices import record_notices
from adapters.outbox import Dispatcher, Outgoing
from adapters.protection.vault import DataErased, PersonalDataVault
from adapters.temporal.codec import Keyring
from domain.events import to_stored
from domain.notices import Notice
from domain.stored import NewEvent

pytestmark = pytest.mark.db

CASE = "PL-UA-2027-000001"
# What someone holding the processes' password would try, to rewrite the record and cover it up.
FORBIDDEN = {
    "update an event": "UPDATE case_events SET data = '{\"forged\": true}'",
    "delete an event": "DELETE FROM case_events WHERE version = 2",
    "truncate the events": "TRUNCATE case_events",
    "insert an event": (
        "INSERT INTO case_events SELECT global_position + 100, stream_id, version + 100,"
        " gen_random_uuid(), type, schema_version, data, metadata, recorded_at, prev_hash, hash"
        " FROM case_events LIMIT 1"
    ),
    "update a disclosure": "UPDATE disclosure_log SET user_id = 'nobody'",
    "delete a disclosure": "DELETE FROM disclosure_log",
    "truncate the disclosures": "TRUNCATE disclosure_log",
    "insert a disclosure directly": (
        "INSERT INTO disclosure_log (at, user_id, role, case_id, purpose, endpoint)"
        " VALUES ('2020-01-01', 'x', 'auditor', 'PL-UA-2027-000001', 'backdated', 'psql')"
    ),
    "disable a trigger": "ALTER TABLE case_events DISABLE TRIGGER case_events_no_update_delete",
    "disable every trigger": "ALTER TABLE case_events DISABLE TRIGGER ALL",
    "disable the disclosure trigger": "ALTER TABLE disclosure_log DISABLE TRIGGER ALL",
    "drop a trigger": "DROP TRIGGER case_events_no_update_delete ON case_events",
    "create a trigger": (
        "CREATE TRIGGER t BEFORE INSERT ON case_events"
        " FOR EACH ROW EXECUTE FUNCTION case_events_refuse_change()"
    ),
    "replace the trigger function": (
        "CREATE OR REPLACE FUNCTION case_events_refuse_change() RETURNS trigger"
        " LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$"
    ),
    "replace an append function": (
        "CREATE OR REPLACE FUNCTION record_disclosure(text, text, text, text, text, text,"
        " text[]) RETURNS bigint LANGUAGE sql AS $$SELECT 0::bigint$$"
    ),
    "alter a function": "ALTER FUNCTION case_events_refuse_change() RENAME TO old_refusal",
    "make a function its own": "ALTER FUNCTION case_events_refuse_change() OWNER TO CURRENT_USER",
    "drop the trigger function": "DROP FUNCTION case_events_refuse_change() CASCADE",
    "create a function": "CREATE FUNCTION shadow() RETURNS int LANGUAGE sql AS $$SELECT 1$$",
    "create a table": "CREATE TABLE shadow (x int)",
    "rename the events": "ALTER TABLE case_events RENAME TO case_events_old",
    "drop the events": "DROP TABLE case_events",
    "lock the events exclusively": "LOCK TABLE case_events IN ACCESS EXCLUSIVE MODE",
    "comment the events away": "COMMENT ON TABLE case_events IS 'anything goes'",
    "switch triggers off for the session": "SET session_replication_role = replica",
    "become a superuser": "ALTER ROLE CURRENT_USER SUPERUSER",
    "create a role": "CREATE ROLE accomplice LOGIN",
    "rewrite the migration ledger": "DELETE FROM schema_migrations",
    "delete an erasure's record": "DELETE FROM case_keys",
    "rewrite a notice": "UPDATE notifications SET payload = '{}', recipient = 'nobody'",
    "promote itself in the directory": "UPDATE officers SET role = 'admin'",
    "forge a registry entry": "DELETE FROM registry_documents",
}


def note(n: int) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        type="NoteAdded",
        schema_version=1,
        data={"n": n},
        metadata={"actor": "anna.pl"},
    )


async def history(pool: asyncpg.Pool) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    events = await pool.fetch("SELECT * FROM case_events ORDER BY global_position")
    disclosed = await pool.fetch("SELECT * FROM disclosure_log ORDER BY id")
    return events, disclosed


async def test_the_runtime_role_cannot_rewrite_history(
    pool: asyncpg.Pool, runtime_pool: asyncpg.Pool
) -> None:
    store = EventStore(runtime_pool)  # appended as the processes append: allowed
    await store.append(CASE, 0, [note(1), note(2), note(3)])
    await log_disclosure(runtime_pool, "audit.pl", "auditor", CASE, "replay", "/test")
    before = await history(pool)
    owner = await pool.fetchval("SELECT current_user")
    attempts = {
        **FORBIDDEN,
        "become the owner": f"SET ROLE {owner}",
        "log in again as the owner": f"SET SESSION AUTHORIZATION {owner}",
    }
    allowed: dict[str, str] = {}
    async with runtime_pool.acquire() as conn:
        assert await conn.fetchval("SELECT current_user") == RUNTIME_ROLE.name
        for attempt, sql in attempts.items():
            try:
                async with conn.transaction():  # LOCK TABLE wants one; each rolls back
                    await conn.execute(sql)
            except asyncpg.InsufficientPrivilegeError as refused:
                # the privilege system said no, not a trigger the owner could switch off
                if "append-only" in str(refused):
                    allowed[attempt] = f"refused only by a trigger: {refused}"
            except asyncpg.PostgresError as error:
                allowed[attempt] = f"failed otherwise: {type(error).__name__}: {error}"
            else:
                allowed[attempt] = "succeeded"
    assert allowed == {}
    assert await history(pool) == before
    assert (await EventStore(pool).verify(CASE)).ok


async def test_the_runtime_role_owns_nothing_and_may_not_create(
    pool: asyncpg.Pool, runtime_pool: asyncpg.Pool
) -> None:
    role = RUNTIME_ROLE.name
    owned = await pool.fetchval(
        """SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace
             AND pg_has_role($1, relowner, 'USAGE')""",
        role,
    )
    assert owned == 0
    assert not await pool.fetchval(
        "SELECT has_schema_privilege($1, current_schema(), 'CREATE')", role
    )
    attributes = await pool.fetchrow(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication"
        " FROM pg_roles WHERE rolname = $1",
        role,
    )
    assert attributes is not None and not any(attributes.values())
    async with runtime_pool.acquire() as conn:
        assert not await conn.fetchval(
            "SELECT pg_has_role(current_user, 'pg_write_all_data', 'USAGE')"
        )
        # holding no grant option, it grants nothing (PostgreSQL only warns)
        await conn.execute("GRANT UPDATE, DELETE, TRUNCATE ON case_events TO CURRENT_USER")
        for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER"):
            for table in ("case_events", "disclosure_log"):
                query = "SELECT has_table_privilege(current_user, $1, $2)"
                assert not await conn.fetchval(query, table, privilege), (table, privilege)


async def test_the_event_store_and_the_outbox_work_as_the_runtime_role(
    pool: asyncpg.Pool, runtime_pool: asyncpg.Pool
) -> None:
    olena = Officer(user_id="olena.ua", state="UA", role="officer", display_name="Olena")
    first = Keyring.new_key()
    master = Keyring.from_encoded({"m1": first}, "m1", what="master")
    hooked = olena.model_copy(update={"email": "o@x.ua", "webhook_url": "https://hooks.ua/in"})
    async with pool.acquire() as owner:  # the directory is the owner's to load
        await import_directory(owner, [hooked], master=master)
    rotated = Keyring.from_encoded({"m1": first, "m2": Keyring.new_key()}, "m2", what="master")
    async with runtime_pool.acquire() as conn:  # `readmit privacy rewrap` runs as the runtime role
        assert await rewrap_webhook_secrets(conn, rotated) == 1
    store = EventStore(runtime_pool)
    notice = Notice(
        key=f"{CASE}:1:received",
        case_id=CASE,
        state="UA",
        role="officer",
        kind="received",
        subject="received",
        event_id=uuid.uuid4(),
    )
    one = await store.append(CASE, 0, [note(1)])
    batch, results = await store.append_with(
        CASE,
        1,
        [note(2), note(3)],
        [record_notices([notice], ["inbox", "email"]), SqlCall("case_stream_head", (CASE,))],
    )
    assert [r.version for r in [*one, *batch]] == [1, 2, 3] and results == [2, 1]
    assert (await store.verify(CASE)).ok and await store.last_position() == 3
    channels = await runtime_pool.fetch("SELECT channel FROM notifications ORDER BY channel")
    assert [r["channel"] for r in channels] == ["email", "inbox"]

    class Recorder:
        def __init__(self) -> None:
            self.sent: list[Outgoing] = []

        async def send(self, item: Outgoing) -> None:
            self.sent.append(item)

    mail = Recorder()
    report = await Dispatcher(runtime_pool, mail, Recorder()).run_once()
    assert report.sent == 1 and [o.address for o in mail.sent] == ["o@x.ua"]
    marked = await runtime_pool.fetchval(
        "UPDATE notifications SET read_at = now() WHERE channel = 'inbox' RETURNING id"
    )
    assert marked is not None

    await log_disclosure(runtime_pool, "audit.pl", "auditor", CASE, "replay", "/test", state="PL")
    [entry] = await disclosures(runtime_pool, CASE)
    # a list view names every case it showed, in one row written through record_shown
    await log_shown(runtime_pool, "anna.pl", "officer", [CASE, "PL-UA-2027-000009"], "list", "/t")
    assert [e["cases_shown"] for e in await disclosures(runtime_pool, CASE)] == [1, 2]
    assert (entry["user_id"], entry["state"], entry["purpose"]) == ("audit.pl", "PL", "replay")
    assert await next_case_id(runtime_pool, "PL", "UA", 2027) == "PL-UA-2027-000001"
    assert await next_case_id(runtime_pool, "PL", "UA", 2027) == "PL-UA-2027-000002"
    await runtime_pool.execute(
        "INSERT INTO idempotency_keys (principal, key, method, path, request_hash)"
        " VALUES ('anna.pl', 'k', 'POST', '/cases', 'h')"
    )
    await runtime_pool.execute("UPDATE idempotency_keys SET status_code = 201")
    await runtime_pool.execute("DELETE FROM idempotency_keys")
    officers = await runtime_pool.fetchval("SELECT count(*) FROM officers WHERE active")
    persons = await runtime_pool.fetchval("SELECT count(*) FROM registry_persons")
    assert (officers, persons) == (1, 0)


async def test_the_projector_and_the_vault_work_as_the_runtime_role(
    runtime_pool: asyncpg.Pool,
) -> None:
    rng = random.Random(3)
    store = EventStore(runtime_pool)
    for number in range(1, 4):
        case_id = f"PL-UA-2027-{number:06d}"
        _, events = generate(random_plan(rng, 6), case_id=case_id)
        stored = []
        for event in events:
            kind, version, data = to_stored(event)
            stored.append(
                NewEvent(
                    event_id=uuid.uuid4(), type=kind, schema_version=version, data=data, metadata={}
                )
            )
        await store.append(case_id, 0, stored)
    m1 = os.urandom(32)
    vault = PersonalDataVault(runtime_pool, Keyring({"m1": m1}, "m1", what="master"))
    for number in range(1, 4):
        await vault.create(f"PL-UA-2027-{number:06d}")
    projector = CaseProjector(runtime_pool, vault=vault)
    assert await projector.catch_up() > 0
    assert await projector.rebuild() > 0  # DELETE, LOCK TABLE, checkpoint
    assert await runtime_pool.fetchval("SELECT count(*) FROM cases") == 3

    both = PersonalDataVault(
        runtime_pool,
        Keyring({"m1": m1, "m2": os.urandom(32)}, "m2", what="master"),
    )
    assert await both.rewrap(batch=2) == 3
    erased = await both.erase(["PL-UA-2027-000001"], datetime.now(UTC), "retention ended")
    assert erased == ["PL-UA-2027-000001"]
    with pytest.raises(DataErased):
        await both.sealer("PL-UA-2027-000001")
    # the trigger still keeps an erased key erased, for the runtime role as for anyone
    with pytest.raises(asyncpg.IntegrityConstraintViolationError):
        await runtime_pool.execute(
            "UPDATE case_keys SET wrapped = '\\x00', master_key_id = 'm2'"
            " WHERE case_id = 'PL-UA-2027-000001'"
        )


async def test_processes_check_the_schema_instead_of_migrating_it(
    database_url: str, db_schema: str, runtime_dsn: str
) -> None:
    from adapters.db.migrate import MigrationError, load_migrations, migrate_dsn

    current = await migrate_dsn(runtime_dsn)
    assert {o.status for o in current} == {"already applied"}
    owner = await connect(database_url, schema=db_schema)
    try:
        last = load_migrations()[-1]
        await owner.execute("DELETE FROM schema_migrations WHERE version = $1", last.version)
        with pytest.raises(MigrationError, match=rf"lacks 1 migration\(s\) \({last.label}…\)"):
            await migrate_dsn(runtime_dsn)
    finally:
        await owner.close()
