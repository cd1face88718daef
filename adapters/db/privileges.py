"""What the runtime role may do in the schema: the one map of its privileges, and its grants.

Every table, sequence and function of the schema has an entry below, and `apply_privileges`
(run by every migration, after the files, by the owner) refuses a schema holding one that has
none: a new table is a decision about who may write it, made here. Each run first revokes
everything from the runtime role and from PUBLIC, then grants exactly the map, so a privilege
taken out of the map is taken away from the database too.

The two histories are append-only for the runtime role: it reads `case_events` and
`disclosure_log` and appends to them only by calling functions that run as their owner
(SECURITY DEFINER, `search_path` pinned to the schema and `pg_temp` last, EXECUTE granted to the
runtime role alone). It owns nothing, so it cannot ALTER, DISABLE or DROP a trigger, replace or
alter a function, or change a grant; it has no TRUNCATE, no REFERENCES, no TRIGGER, no CREATE.
Reference data (the directory, the registries, the federation's peers) is the owner's to load
(`readmit directory import`, `readmit registry import`, `readmit peers` use the owner's DSN):
the runtime role reads it.

To decide for a new table, add one line to `TABLES` (its serial sequence to `SEQUENCES`, its
functions to `FUNCTIONS`), e.g. `"web_sessions": "SELECT, INSERT, UPDATE, DELETE"`; column
lists narrow an UPDATE, e.g. `"UPDATE (read_at)"`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import asyncpg

from adapters.db.pool import quote_ident
from adapters.db.roles import RoleError

# table (or view) -> the privileges of the runtime role, as GRANT writes them ("" = none)
TABLES: dict[str, str] = {
    # the event store: appended by append_case_event(s) only (FUNCTIONS)
    "case_events": "SELECT",
    # who saw which personal data: appended by record_disclosure only (FUNCTIONS)
    "disclosure_log": "SELECT",
    # the read model and its checkpoints: the projector upserts, rebuilds (DELETE, LOCK) and
    # blanks erased summaries
    "cases": "SELECT, INSERT, UPDATE, DELETE",
    "projection_checkpoints": "SELECT, INSERT, UPDATE, DELETE",
    # the outbox: rows come from record_notices (FUNCTIONS); the dispatcher leases and marks
    # them, the inbox marks them read; what a notice says and to whom stays as written
    "notifications": "SELECT, UPDATE (next_try_at, status, sent_at, attempts, last_error, read_at)",
    # per-case data keys: created on opening, re-wrapped under a new master key, erased; never
    # deleted (an erasure's record stays) and, by trigger, never given back once erased
    "case_keys": (
        "SELECT, INSERT, UPDATE (master_key_id, wrapped, rewrapped_at, erased_at, erasure_reason)"
    ),
    # a POST's Idempotency-Key: reserved, answered, taken over when stale, released on 5xx
    "idempotency_keys": "SELECT, INSERT, UPDATE, DELETE",
    # case ids, numbered per prefix in one upsert
    "case_numbers": "SELECT, INSERT, UPDATE (last)",
    # reference data loaded by the owner; read for notices, sign-in and identity checks; `readmit
    # privacy rewrap` re-wraps the recipients' webhook secrets under a new master key
    "officers": (
        "SELECT, UPDATE (webhook_secret_key_id, webhook_secret, webhook_previous_key_id,"
        " webhook_previous_secret)"
    ),
    "registry_persons": "SELECT",
    "registry_documents": "SELECT",
    # web sessions: created at sign-in, revoked at sign-out, expired ones deleted; who a
    # session is stays as the sign-in established it
    "web_sessions": "SELECT, INSERT, UPDATE (revoked_at), DELETE",
    # the messages exchanged with peer nodes and their receipts, signed: kept as they travelled
    "federation_messages": "SELECT, INSERT",
    "federation_receipts": "SELECT, INSERT",
    # federation peers and their keys: administered by the owner (`readmit peers`), read to
    # verify what a peer signed and to encrypt what is sent to it
    "federation_peers": "SELECT",
    "federation_peer_keys": "SELECT",
    # the sealed bytes of attachments (adapters/attachments/postgres.py): stored once per case
    # and hash, read back, deleted when the case is erased or an upload is undone; never changed
    "case_attachments": "SELECT, INSERT, DELETE",
    # processes check at start that the schema is current, and apply nothing themselves
    "schema_migrations": "SELECT",
    # the person search's blind index (hashes only): the projector replaces a case's entries
    # (DELETE, INSERT), the erasure deletes them, the search reads; an entry is never updated
    "person_index": "SELECT, INSERT, DELETE",
}

# sequence -> the runtime role's privileges; rows of both come from definer functions
SEQUENCES: dict[str, str] = {
    "disclosure_log_id_seq": "",
    "notifications_id_seq": "",
}

Execute = Literal["definer", "caller", "none"]
# function -> how the runtime role may run it (every overload alike):
#   definer  EXECUTE, and it runs as the owner (SECURITY DEFINER, search_path pinned)
#   caller   EXECUTE, with the runtime role's own rights (SECURITY INVOKER)
#   none     no EXECUTE: trigger functions, and helpers only definer functions call
FUNCTIONS: dict[str, Execute] = {
    "append_case_event": "definer",
    "append_case_events": "definer",
    "record_disclosure": "definer",
    "record_shown": "definer",
    "record_notices": "definer",
    "case_stream_head": "caller",
    "case_events_recorded_batch": "none",
    "case_events_refuse_change": "none",
    "disclosure_log_is_append_only": "none",
    "case_keys_stay_erased": "none",
}

_PRIVILEGES = re.compile(r"^(?:[A-Z]+(?: \([a-z_, ]+\))?(?:, (?=[A-Z])|$))*$")
_RELATIONS = """
SELECT c.relname, c.relkind = 'S' AS is_sequence
  FROM pg_class c
 WHERE c.relnamespace = current_schema()::regnamespace
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
"""
_FUNCTIONS = """
SELECT p.proname, format('%I.%I(%s)', n.nspname, p.proname,
                         pg_get_function_identity_arguments(p.oid)) AS signature
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.oid = current_schema()::regnamespace AND p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                      AND d.objid = p.oid AND d.deptype = 'e')
 ORDER BY 2
"""
# Owners whose rights the runtime role would hold: of the schema, or of any object in it.
_OWNERS_SHARED = """
SELECT DISTINCT owner::regrole::text FROM (
    SELECT nspowner AS owner FROM pg_namespace WHERE oid = current_schema()::regnamespace
    UNION SELECT relowner FROM pg_class WHERE relnamespace = current_schema()::regnamespace
    UNION SELECT proowner FROM pg_proc WHERE pronamespace = current_schema()::regnamespace
) o WHERE pg_has_role($1, owner, 'USAGE')
"""


class PrivilegeError(RuntimeError):
    """The schema and the privilege map disagree, or the runtime role is unsafe; one line."""


@dataclass(frozen=True, slots=True)
class Granted:
    """What one run of `apply_privileges` covered."""

    role: str
    tables: int
    sequences: int
    functions: int


@dataclass(frozen=True, slots=True)
class SchemaObjects:
    """The schema's tables (and views), sequences and functions (name -> signatures)."""

    tables: frozenset[str]
    sequences: frozenset[str]
    functions: dict[str, list[str]]

    def unmapped(self) -> list[str]:
        """Objects of the schema the map has no entry for, as `kind name`."""
        return [
            *(f"table {t}" for t in sorted(self.tables - TABLES.keys())),
            *(f"sequence {s}" for s in sorted(self.sequences - SEQUENCES.keys())),
            *(f"function {f}" for f in sorted(self.functions.keys() - FUNCTIONS.keys())),
        ]

    def unknown(self) -> list[str]:
        """Entries of the map naming nothing in the schema (a typo, or a migration not run)."""
        return [
            *(f"table {t}" for t in sorted(TABLES.keys() - self.tables)),
            *(f"sequence {s}" for s in sorted(SEQUENCES.keys() - self.sequences)),
            *(f"function {f}" for f in sorted(FUNCTIONS.keys() - self.functions.keys())),
        ]


async def schema_objects(conn: asyncpg.Connection) -> SchemaObjects:
    """Every table, view, sequence and function of `current_schema()` (extensions' left out)."""
    relations = await conn.fetch(_RELATIONS)
    functions: dict[str, list[str]] = {}
    for row in await conn.fetch(_FUNCTIONS):
        functions.setdefault(row["proname"], []).append(row["signature"])
    return SchemaObjects(
        tables=frozenset(r["relname"] for r in relations if not r["is_sequence"]),
        sequences=frozenset(r["relname"] for r in relations if r["is_sequence"]),
        functions=functions,
    )


async def apply_privileges(conn: asyncpg.Connection, role: str) -> Granted:
    """Grant `role` exactly what the map says on `current_schema()`, in one transaction.

    Run by the owner (or a superuser) after the migrations. Refuses, granting nothing, a schema
    with an object the map lacks, and a runtime role that would hold an owner's rights."""
    schema = str(await conn.fetchval("SELECT current_schema()"))
    objects = await schema_objects(conn)
    unmapped = objects.unmapped()
    if unmapped:
        raise PrivilegeError(
            f"{', '.join(unmapped)} of schema {schema} not in adapters/db/privileges.py: "
            "decide what the runtime role may do with it"
        )
    await _refuse_unsafe(conn, role)
    script = [*await _schema_statements(conn, schema, role)]
    for table in sorted(objects.tables):
        script += _grants(
            "TABLE", f"{quote_ident(schema)}.{quote_ident(table)}", TABLES[table], role
        )
    for sequence in sorted(objects.sequences):
        name = f"{quote_ident(schema)}.{quote_ident(sequence)}"
        script += _grants("SEQUENCE", name, SEQUENCES[sequence], role)
    for function, signatures in sorted(objects.functions.items()):
        for signature in signatures:
            script += _function_statements(signature, FUNCTIONS[function], schema, role)
    async with conn.transaction():
        await conn.execute(";\n".join(script))
    return Granted(
        role,
        len(objects.tables),
        len(objects.sequences),
        sum(len(s) for s in objects.functions.values()),
    )


async def owner_rights(conn: asyncpg.Connection) -> str | None:
    """Why the connected role has the owner's rights in its schema (it could migrate, rewrite
    history, change grants), or None when it has not: a superuser, a member of a role owning
    the schema or any of its objects, or a role that may create in it."""
    user = await conn.fetchval("SELECT current_user")
    if await conn.fetchval("SELECT current_schema()") is None:
        return None  # no schema to own: `migrate` says so
    if await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        return f"{user} is a superuser"
    shared = [r[0] for r in await conn.fetch(_OWNERS_SHARED, user)]
    if shared:
        return f"{user} holds the rights of {', '.join(sorted(shared))}, owner of the schema"
    if await conn.fetchval("SELECT has_schema_privilege(current_schema(), 'CREATE')"):
        return f"{user} may create in the schema"
    return None


async def _refuse_unsafe(conn: asyncpg.Connection, role: str) -> None:
    attributes = await conn.fetchrow(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1", role
    )
    if attributes is None:
        raise RoleError(f"the runtime role {role} does not exist")
    if attributes["rolsuper"] or attributes["rolbypassrls"]:
        raise RoleError(f"the runtime role {role} is a superuser or bypasses row security")
    shared = [r[0] for r in await conn.fetch(_OWNERS_SHARED, role)]
    if shared:
        raise RoleError(
            f"the runtime role {role} holds the rights of {', '.join(shared)}, which owns the "
            "schema or its objects: it could rewrite history; use a role of its own"
        )


async def _schema_statements(conn: asyncpg.Connection, schema: str, role: str) -> list[str]:
    """USAGE on the schema and no CREATE in it; the schema's owner grants, else USAGE must be
    there already (PostgreSQL 14's `public`, owned by the bootstrap superuser)."""
    owns = await conn.fetchval(
        "SELECT pg_has_role(current_user, nspowner, 'USAGE') FROM pg_namespace"
        " WHERE oid = current_schema()::regnamespace"
    )
    if owns:
        return [
            f"REVOKE CREATE ON SCHEMA {quote_ident(schema)} FROM PUBLIC, {quote_ident(role)}",
            f"GRANT USAGE ON SCHEMA {quote_ident(schema)} TO {quote_ident(role)}",
        ]
    if not await conn.fetchval("SELECT has_schema_privilege($1, current_schema(), 'USAGE')", role):
        raise PrivilegeError(
            f"the runtime role {role} has no USAGE on schema {schema}, and the migrating role "
            "does not own the schema to grant it"
        )
    if await conn.fetchval("SELECT has_schema_privilege($1, current_schema(), 'CREATE')", role):
        raise PrivilegeError(
            f"the runtime role {role} may create objects in schema {schema} (PostgreSQL 14's "
            f"`public` lets everyone), and the migrating role does not own the schema to revoke "
            f"it: REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC as its owner, then migrate again"
        )
    return []


def _grants(kind: str, name: str, privileges: str, role: str) -> list[str]:
    if not _PRIVILEGES.match(privileges):
        raise PrivilegeError(f"unreadable privileges {privileges!r} for {name}")
    statements = [f"REVOKE ALL ON {kind} {name} FROM PUBLIC, {quote_ident(role)}"]
    if privileges:
        statements.append(f"GRANT {privileges} ON {kind} {name} TO {quote_ident(role)}")
    return statements


def _function_statements(signature: str, execute: Execute, schema: str, role: str) -> list[str]:
    statements = [f"REVOKE ALL ON ROUTINE {signature} FROM PUBLIC, {quote_ident(role)}"]
    if execute == "definer":
        path = f"{quote_ident(schema)}, pg_temp"
        statements.append(f"ALTER ROUTINE {signature} SECURITY DEFINER SET search_path = {path}")
    else:
        statements.append(f"ALTER ROUTINE {signature} SECURITY INVOKER")
    if execute != "none":
        statements.append(f"GRANT EXECUTE ON ROUTINE {signature} TO {quote_ident(role)}")
    return statements
