"""The directory of officers, kept in a TOML or CSV file and upserted into `officers`.

A file is checked as a whole first and every problem is reported with where it is (line, entry,
field), so one run shows everything to fix; nothing is written unless the whole file is good, and
then it is written in one transaction. Being in the file makes an officer active; officers missing
from it are deactivated (never deleted: outbox rows name them) only when asked.

TOML: `[[officer]]` tables. CSV: a header row with the same column names.

An officer with a webhook URL gets a signing secret of their own when the URL is first imported
(or changes): shown once in the import's result, stored only wrapped by the master keyring
(`adapters/webhooks.py`). `issue_webhook_secret` rotates one; `rewrap_webhook_secrets` moves them
under the active master key.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from adapters.temporal.codec import Keyring
from adapters.webhooks import (
    WrappedSecret,
    new_secret,
    secret_text,
    unwrap_secret,
    url_problem,
    wrap_secret,
)

FIELDS = ("user_id", "state", "role", "display_name", "email", "webhook_url", "locale")
REQUIRED = ("user_id", "state", "role", "display_name")

_USER_ID = re.compile(r"^[A-Za-z0-9._@-]{1,100}$")
_STATE = re.compile(r"^[A-Z]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
_TOML_HEADER = re.compile(r"^\s*\[\[\s*officer\s*\]\]")


class Officer(BaseModel):
    """One directory entry, checked as strictly as the `officers` table's constraints."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    user_id: str
    state: str
    role: Literal["officer", "supervisor", "auditor", "admin"]
    display_name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    webhook_url: str | None = None
    locale: str = "en"

    @field_validator("email", "webhook_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str) -> str:
        if not _USER_ID.match(value):
            raise ValueError("1-100 letters, digits or . _ @ -")
        return value

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        if not _STATE.match(value):
            raise ValueError(f"two capital letters (ISO 3166-1 alpha-2), not {value!r}")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("not an e-mail address")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        """https (plain http to loopback in development); in production, no loopback or
        private address either (validate with context {"production": True})."""
        if value is None:
            return None
        production = bool((info.context or {}).get("production"))
        problem = url_problem(value, production=production)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if not _LOCALE.match(value):
            raise ValueError(f"a language tag like 'pl' or 'uk-UA', not {value!r}")
        return value


class DirectoryProblem(BaseModel):
    """One thing wrong in a directory file, with where it is."""

    model_config = ConfigDict(frozen=True)

    source: str
    message: str
    line: int | None = None
    entry: int | None = None  # 1-based position of the entry in the file
    field: str | None = None

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        parts = [where]
        if self.entry is not None:
            parts.append(f"officer #{self.entry}")
        if self.field is not None:
            parts.append(self.field)
        return ": ".join([*parts, self.message])


class DirectoryError(ValueError):
    """A directory file that cannot be imported; `problems` lists every reason."""

    def __init__(self, problems: list[DirectoryProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the directory file")
        self.problems = problems


class IssuedSecret(BaseModel):
    """A webhook signing secret just issued: shown to the operator once, never stored in clear."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    webhook_url: str
    secret: SecretStr
    previous_until: datetime | None = None  # the old secret signs beside it until then


class ImportSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    deactivated: tuple[str, ...] = ()
    secrets: tuple[IssuedSecret, ...] = ()  # new webhook URLs' secrets, to hand to receivers

    @property
    def total(self) -> int:
        return len(self.added) + len(self.updated) + len(self.unchanged)


def load_directory(path: Path, *, production: bool = False) -> list[Officer]:
    """Read and check a `.toml` or `.csv` directory file; raise `DirectoryError` on any problem.
    In `production`, webhook URLs are held to production's rules."""
    source = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise DirectoryError([DirectoryProblem(source=source, message=reason)]) from error
    match path.suffix.lower():
        case ".toml":
            return parse_toml(text, source, production=production)
        case ".csv":
            return parse_csv(text, source, production=production)
        case _:
            message = f"unknown format {path.suffix!r}: expected .toml or .csv"
            raise DirectoryError([DirectoryProblem(source=source, message=message)])


def parse_toml(text: str, source: str = "<toml>", *, production: bool = False) -> list[Officer]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DirectoryError([DirectoryProblem(source=source, message=str(error))]) from error
    problems = [
        DirectoryProblem(source=source, field=key, message="unknown top-level key")
        for key in document
        if key != "officer"
    ]
    raw = document.get("officer", [])
    if not isinstance(raw, list):
        problems.append(DirectoryProblem(source=source, message="`officer` must be [[officer]]"))
        raise DirectoryError(problems)
    headers = [n for n, line in enumerate(text.splitlines(), 1) if _TOML_HEADER.match(line)]
    lines: list[int | None] = list(headers) if len(headers) == len(raw) else [None] * len(raw)
    return _check(raw, lines, source, problems, production)


def parse_csv(text: str, source: str = "<csv>", *, production: bool = False) -> list[Officer]:
    reader = csv.DictReader(io.StringIO(text, newline=""), skipinitialspace=True)
    columns = [c.strip() for c in reader.fieldnames or []]
    problems: list[DirectoryProblem] = []
    unknown = [c for c in columns if c not in FIELDS]
    missing = [c for c in REQUIRED if c not in columns]
    if unknown:
        problems.append(
            DirectoryProblem(source=source, line=1, message=f"unknown column(s): {unknown}")
        )
    if missing:
        problems.append(
            DirectoryProblem(source=source, line=1, message=f"missing column(s): {missing}")
        )
    if problems or not columns:
        raise DirectoryError(problems or [DirectoryProblem(source=source, message="empty file")])
    raw: list[Any] = []
    lines: list[int | None] = []
    for row in reader:
        if None in row:
            problems.append(
                DirectoryProblem(source=source, line=reader.line_num, message="too many cells")
            )
            continue
        cells = {k.strip(): (v or "").strip() for k, v in row.items()}
        if not any(cells.values()):
            continue  # a blank line
        if not cells.get("locale"):
            cells.pop("locale", None)  # the default applies
        raw.append(cells)
        lines.append(reader.line_num)
    return _check(raw, lines, source, problems, production)


def _check(
    raw: list[Any],
    lines: list[int | None],
    source: str,
    problems: list[DirectoryProblem],
    production: bool,
) -> list[Officer]:
    """Validate every entry, then the file as a whole; raise with all problems found."""
    officers: list[Officer] = []
    seen: list[tuple[int, str]] = []
    for index, (entry, line) in enumerate(zip(raw, lines, strict=True), 1):
        if isinstance(entry, dict) and isinstance(entry.get("user_id"), str):
            seen.append((index, entry["user_id"].strip()))
        try:
            officers.append(Officer.model_validate(entry, context={"production": production}))
        except ValidationError as error:
            problems.extend(
                DirectoryProblem(
                    source=source,
                    line=line,
                    entry=index,
                    field=".".join(str(p) for p in detail["loc"]) or None,
                    message=_message(detail),
                )
                for detail in error.errors()
            )
    counts = Counter(user_id for _, user_id in seen)
    for index, user_id in seen:
        if counts[user_id] > 1:
            problems.append(
                DirectoryProblem(
                    source=source,
                    line=lines[index - 1],
                    entry=index,
                    field="user_id",
                    message=f"{user_id!r} appears {counts[user_id]} times",
                )
            )
    if not raw and not problems:
        problems.append(DirectoryProblem(source=source, message="no officers in the file"))
    if problems:
        raise DirectoryError(sorted(problems, key=lambda p: (p.line or 0, p.entry or 0)))
    return officers


def _message(detail: Any) -> str:
    if detail["type"] == "extra_forbidden":
        return "unknown field"
    if detail["type"] == "missing":
        return "required"
    return str(detail["msg"]).removeprefix("Value error, ")


_EXISTING = """
SELECT user_id, webhook_url, webhook_secret IS NOT NULL AS has_secret
FROM officers WHERE user_id = ANY($1::text[])
"""
_UPSERT = """
INSERT INTO officers AS o
    (user_id, state, role, display_name, email, webhook_url, locale, active, updated_at)
SELECT u.*, true, now()
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
    AS u
ON CONFLICT (user_id) DO UPDATE SET
    state = EXCLUDED.state, role = EXCLUDED.role, display_name = EXCLUDED.display_name,
    email = EXCLUDED.email, webhook_url = EXCLUDED.webhook_url, locale = EXCLUDED.locale,
    active = true, updated_at = now(),
    -- a changed or removed webhook URL loses its secrets (a new URL gets a new one)
    (webhook_secret_key_id, webhook_secret, webhook_secret_issued_at,
     webhook_previous_key_id, webhook_previous_secret, webhook_previous_until) = (
        SELECT o.webhook_secret_key_id, o.webhook_secret, o.webhook_secret_issued_at,
               o.webhook_previous_key_id, o.webhook_previous_secret, o.webhook_previous_until
        WHERE o.webhook_url = EXCLUDED.webhook_url)
WHERE (o.state, o.role, o.display_name, o.email, o.webhook_url, o.locale, o.active)
    IS DISTINCT FROM (EXCLUDED.state, EXCLUDED.role, EXCLUDED.display_name, EXCLUDED.email,
                      EXCLUDED.webhook_url, EXCLUDED.locale, true)
RETURNING o.user_id
"""
_DEACTIVATE = """
UPDATE officers SET active = false, updated_at = now()
WHERE active AND NOT (user_id = ANY($1::text[]))
RETURNING user_id
"""


async def import_directory(
    conn: asyncpg.Connection | PoolConnectionProxy,
    officers: list[Officer],
    *,
    master: Keyring,
    deactivate_missing: bool = False,
) -> ImportSummary:
    """Upsert `officers` by user_id in one transaction; imports run one at a time.

    An officer whose webhook URL is new, changed, or has no secret yet (a row from before
    secrets) gets a fresh signing secret, wrapped by `master`'s active key and returned in
    `secrets`; one whose URL is removed loses it."""
    user_ids = [o.user_id for o in officers]
    columns = [[getattr(o, name) for o in officers] for name in FIELDS]
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('adapters.directory'))")
        existing = {r["user_id"]: r for r in await conn.fetch(_EXISTING, user_ids)}
        changed = {r["user_id"] for r in await conn.fetch(_UPSERT, *columns)}
        issued = []
        for officer in officers:
            before = existing.get(officer.user_id)
            if officer.webhook_url is not None and (
                before is None
                or before["webhook_url"] != officer.webhook_url
                or not before["has_secret"]
            ):
                issued.append(await _issue(conn, officer.user_id, master, keep_previous=None))
        deactivated: list[str] = []
        if deactivate_missing:
            deactivated = sorted(r["user_id"] for r in await conn.fetch(_DEACTIVATE, user_ids))
    return ImportSummary(
        added=tuple(u for u in user_ids if u in changed and u not in existing),
        updated=tuple(u for u in user_ids if u in changed and u in existing),
        unchanged=tuple(u for u in user_ids if u not in changed),
        deactivated=tuple(deactivated),
        secrets=tuple(issued),
    )


class Entry(NamedTuple):
    """Who a user id is in the directory: their state and role."""

    state: str
    role: str


async def directory_entry(pool: asyncpg.Pool, user_id: str) -> Entry | None:
    """The state and role of an active directory entry (None: no such user, or deactivated)."""
    row = await pool.fetchrow(
        "SELECT state, role FROM officers WHERE user_id = $1 AND active", user_id
    )
    return Entry(row["state"], row["role"]) if row is not None else None


class Colleague(NamedTuple):
    """An active officer or supervisor of a state, as a supervisor's "assign to" lists them."""

    user_id: str
    display_name: str
    role: str


async def officers_of(pool: asyncpg.Pool, state: str) -> list[Colleague]:
    """The active officers and supervisors of `state`, by display name: those a case's side
    may be assigned to (`api.case_access.check_assignee` accepts exactly these)."""
    rows = await pool.fetch(
        "SELECT user_id, display_name, role FROM officers"
        " WHERE state = $1 AND active AND role IN ('officer', 'supervisor')"
        " ORDER BY display_name, user_id",
        state,
    )
    return [Colleague(r["user_id"], r["display_name"], r["role"]) for r in rows]


class NoWebhook(LookupError):
    """The officer is not in the directory, or has no webhook URL to sign for."""


_ISSUE = """
UPDATE officers SET
    webhook_previous_key_id = CASE WHEN $4::interval IS NULL THEN NULL
                                   ELSE webhook_secret_key_id END,
    webhook_previous_secret = CASE WHEN $4::interval IS NULL THEN NULL ELSE webhook_secret END,
    webhook_previous_until = CASE WHEN $4::interval IS NULL OR webhook_secret IS NULL THEN NULL
                                  ELSE now() + $4::interval END,
    webhook_secret_key_id = $2, webhook_secret = $3, webhook_secret_issued_at = now(),
    updated_at = now()
WHERE user_id = $1 AND webhook_url IS NOT NULL
RETURNING webhook_url, webhook_previous_until
"""


async def _issue(
    conn: asyncpg.Connection | PoolConnectionProxy,
    user_id: str,
    master: Keyring,
    *,
    keep_previous: timedelta | None,
) -> IssuedSecret:
    raw = new_secret()
    wrapped = wrap_secret(master, user_id, raw)
    row = await conn.fetchrow(_ISSUE, user_id, wrapped.key_id, wrapped.wrapped, keep_previous)
    if row is None:
        raise NoWebhook(user_id)
    return IssuedSecret(
        user_id=user_id,
        webhook_url=row["webhook_url"],
        secret=SecretStr(secret_text(raw)),
        previous_until=row["webhook_previous_until"],
    )


async def issue_webhook_secret(
    conn: asyncpg.Connection | PoolConnectionProxy,
    user_id: str,
    master: Keyring,
    *,
    keep_previous: timedelta | None = None,
) -> IssuedSecret:
    """A new signing secret for an officer's webhook (rotation, or a row from before secrets).

    With `keep_previous`, the secret it replaces goes on signing beside it for that long, so the
    receiver can switch over without losing a webhook; without it (a leaked secret), at once.
    Raises NoWebhook if the officer has no webhook URL."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('adapters.directory'))")
        return await _issue(conn, user_id, master, keep_previous=keep_previous)


_TO_REWRAP = """
SELECT user_id, webhook_secret_key_id, webhook_secret, webhook_previous_key_id,
       webhook_previous_secret
FROM officers
WHERE webhook_secret_key_id <> $1 OR webhook_previous_key_id <> $1
FOR UPDATE
"""
_REWRAP = """
UPDATE officers SET webhook_secret_key_id = $2, webhook_secret = $3,
    webhook_previous_key_id = $4, webhook_previous_secret = $5
WHERE user_id = $1
"""


async def rewrap_webhook_secrets(
    conn: asyncpg.Connection | PoolConnectionProxy, master: Keyring
) -> int:
    """Re-wrap every webhook secret under the active master key (after `readmit privacy rewrap`
    the old master key can go); returns how many officers' secrets were re-wrapped."""

    def again(user_id: str, key_id: str | None, wrapped: bytes | None) -> WrappedSecret | None:
        if key_id is None or wrapped is None:
            return None
        raw = unwrap_secret(master, user_id, WrappedSecret(key_id, wrapped))
        return wrap_secret(master, user_id, raw)

    async with conn.transaction():
        rows = await conn.fetch(_TO_REWRAP, master.active)
        updates = []
        for r in rows:
            current = again(r["user_id"], r["webhook_secret_key_id"], r["webhook_secret"])
            previous = again(
                r["user_id"], r["webhook_previous_key_id"], r["webhook_previous_secret"]
            )
            updates.append(
                (
                    r["user_id"],
                    current.key_id if current else None,
                    current.wrapped if current else None,
                    previous.key_id if previous else None,
                    previous.wrapped if previous else None,
                )
            )
        await conn.executemany(_REWRAP, updates)
    return len(updates)


class TeamMember(NamedTuple):
    """An active officer or supervisor of a state: who may hold a side of its cases."""

    user_id: str
    role: str
    display_name: str


async def team(pool: asyncpg.Pool, state: str) -> list[TeamMember]:
    """The active officers and supervisors of `state`, by user id (the workload view's rows)."""
    rows = await pool.fetch(
        "SELECT user_id, role, display_name FROM officers"
        " WHERE state = $1 AND active AND role IN ('officer', 'supervisor') ORDER BY user_id",
        state,
    )
    return [TeamMember(r["user_id"], r["role"], r["display_name"]) for r in rows]
