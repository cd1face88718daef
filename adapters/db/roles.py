"""The runtime role: the PostgreSQL role the API and workers connect as, apart from the owner.

The owner (the role of `readmit db migrate`) owns every table, function and trigger; the runtime
role owns nothing and holds only what `adapters/db/privileges.py` grants it. Roles belong to the
whole cluster while migrations run per database and schema, so several databases of one cluster
may migrate at the same moment and all try to create the same role: `ensure_runtime_role`
creates it only when missing and takes "already exists" (`duplicate_object`, or
`unique_violation` when two CREATE ROLEs race) as done; a change of its attributes that loses a
race (`tuple concurrently updated`) is tried again.

The role gets LOGIN only when told (`login`, or a password given): until then it is a role that
nobody can log in as, granted to whichever login roles the operator chooses.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

DEFAULT_RUNTIME_ROLE = "readmit_app"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RETRIES = 5

RoleOutcome = Literal["created", "created with LOGIN", "exists", "given LOGIN"]


class RoleError(RuntimeError):
    """The runtime role cannot be created or used as it is; the message is one line."""


@dataclass(frozen=True, slots=True)
class RuntimeRole:
    """The runtime role's name and whether (and with which password) it may log in."""

    name: str = DEFAULT_RUNTIME_ROLE
    login: bool = False
    password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not ROLE_NAME.match(self.name):
            raise RoleError(
                f"runtime role name {self.name!r}: lower-case letters, digits and _ only"
            )

    @property
    def wants_login(self) -> bool:
        """LOGIN was asked for, or implied by a password."""
        return self.login or bool(self.password)


async def ensure_runtime_role(conn: asyncpg.Connection, role: RuntimeRole) -> RoleOutcome:
    """Create `role` if missing (NOLOGIN unless it wants LOGIN); give an existing role LOGIN and
    its password when it wants them; leave it alone otherwise. Safe to run concurrently."""
    current = await conn.fetchval("SELECT current_user")
    if role.name == current:
        raise RoleError(
            f"the runtime role {role.name} is the role that migrates: set "
            "READMIT_DB_RUNTIME_ROLE to another role, or migrate as the owner "
            "(READMIT_MIGRATION_DATABASE_URL)"
        )
    can_login = await conn.fetchval(
        "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", role.name
    )
    if can_login is None:
        login = "LOGIN" if role.wants_login else "NOLOGIN"
        try:
            await conn.execute(await _statement(conn, f"CREATE ROLE %I {login}", role))
        except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            pass  # another database's migration created it meanwhile
        except asyncpg.InsufficientPrivilegeError:
            raise RoleError(
                f"cannot create the runtime role {role.name}: {current} may not create roles; "
                f"create it as a superuser (CREATE ROLE {role.name} NOLOGIN) or migrate as a "
                "role with CREATEROLE"
            ) from None
        else:
            return "created with LOGIN" if role.wants_login else "created"
    if not role.wants_login or (can_login and not role.password):
        return "exists"
    await _alter_with_retries(conn, role)
    return "given LOGIN"


async def _statement(conn: asyncpg.Connection, template: str, role: RuntimeRole) -> str:
    """`template` (`%I` the role; a PASSWORD clause appended when given) quoted by the server's
    own `format`, since role statements take no bind parameters."""
    if role.password:
        return str(
            await conn.fetchval(
                "SELECT format($1 || ' PASSWORD %L', $2::text, $3::text)",
                template,
                role.name,
                role.password,
            )
        )
    return str(await conn.fetchval("SELECT format($1, $2::text)", template, role.name))


async def _alter_with_retries(conn: asyncpg.Connection, role: RuntimeRole) -> None:
    statement = await _statement(conn, "ALTER ROLE %I LOGIN", role)
    for attempt in range(_RETRIES):
        try:
            await conn.execute(statement)
            return
        except asyncpg.InsufficientPrivilegeError:
            raise RoleError(
                f"cannot give the runtime role {role.name} LOGIN: the migrating role may not "
                f"alter it; as a superuser: ALTER ROLE {role.name} LOGIN PASSWORD '…'"
            ) from None
        except asyncpg.InternalServerError as error:
            # another database's migration altered the role at the same moment
            if "concurrently" not in str(error) or attempt == _RETRIES - 1:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))


def dsn_as(dsn: str, user: str, password: str | None = None) -> str:
    """`dsn` (a postgresql:// URL) logging in as `user` with `password` (none if None), the
    host, database and options kept: the runtime role's DSN derived from the owner's."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgresql", "postgres"):
        raise RoleError("the database URL must start with postgresql://")
    host = parts.netloc.rpartition("@")[2]
    credentials = quote(user, safe="")
    if password:
        credentials += ":" + quote(password, safe="")
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))
