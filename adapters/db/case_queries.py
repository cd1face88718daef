"""Queries officers run on the `cases` read model: filtered, scoped, keyset-paginated lists,
and the parties of one case (what the API authorises a caller against).

Order: overdue first, then by next deadline (none last), then by case id; the cursor is the
last row's sort key, so pages stay stable while cases change.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

ALL = "*"
_SORT = "((NOT overdue)::int), (coalesce(next_due, 'infinity'::timestamptz)), case_id"


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Parties:
    """The states of a case: fixed when it is opened, so a projected row is never stale here."""

    requesting: str
    requested: str


@dataclass(frozen=True)
class CaseFilter:
    states: Collection[str]
    side: Literal["requesting", "requested"] | None = None
    status: tuple[str, ...] = ()
    agreement: str | None = None
    counterpart: str | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    prefix: str | None = None


def encode_cursor(row: asyncpg.Record) -> str:
    key = [0 if row["overdue"] else 1, row["next_due"].isoformat() if row["next_due"] else None]
    raw = json.dumps([*key, row["case_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, datetime | None, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        flag, due, case_id = json.loads(raw)
        return int(flag), datetime.fromisoformat(due) if due else None, str(case_id)
    except (ValueError, TypeError) as error:
        raise BadCursor("the cursor is not one this API issued") from error


def _where(f: CaseFilter, args: list[Any]) -> list[str]:
    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    clauses: list[str] = []
    if ALL not in f.states:
        states = arg(list(f.states))
        if f.side == "requesting":
            clauses.append(f"requesting = ANY({states})")
        elif f.side == "requested":
            clauses.append(f"requested = ANY({states})")
        else:
            clauses.append(f"(requesting = ANY({states}) OR requested = ANY({states}))")
        if f.counterpart:
            other = arg(f.counterpart)
            clauses.append(
                f"((requesting = ANY({states}) AND requested = {other})"
                f" OR (requested = ANY({states}) AND requesting = {other}))"
            )
    elif f.counterpart:
        other = arg(f.counterpart)
        clauses.append(f"(requesting = {other} OR requested = {other})")
    if f.status:
        clauses.append(f"status = ANY({arg(list(f.status))})")
    if f.agreement:
        clauses.append(f"agreement_id = {arg(f.agreement)}")
    if f.overdue is not None:
        clauses.append(f"overdue = {arg(f.overdue)}")
    if f.due_before is not None:
        clauses.append(f"next_due < {arg(f.due_before)}")
    if f.prefix:
        escaped = f.prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(f"case_id LIKE {arg(escaped + '%')}")
    return clauses


async def list_cases(
    pool: asyncpg.Pool, f: CaseFilter, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[asyncpg.Record], str | None]:
    """One page of cases and the cursor of the next page (None at the end)."""
    args: list[Any] = []
    clauses = _where(f, args)
    if cursor:
        flag, due, case_id = decode_cursor(cursor)
        args += [flag, due, case_id]
        n = len(args)
        clauses.append(
            f"({_SORT}) > (${n - 2}::int, coalesce(${n - 1}::timestamptz, 'infinity'), ${n})"
        )
    args.append(limit + 1)
    sql = (
        "SELECT * FROM cases"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + f" ORDER BY {_SORT} LIMIT ${len(args)}"
    )
    rows = await pool.fetch(sql, *args)
    page = rows[:limit]
    return page, encode_cursor(page[-1]) if len(rows) > limit else None


async def next_case_id(pool: asyncpg.Pool, requesting: str, requested: str, year: int) -> str:
    """`<requesting>-<requested>-<year>-<six digits>`, numbered without gaps per prefix."""
    prefix = f"{requesting}-{requested}-{year}"
    number = await pool.fetchval(
        "INSERT INTO case_numbers (prefix, last) VALUES ($1, 1)"
        " ON CONFLICT (prefix) DO UPDATE SET last = case_numbers.last + 1 RETURNING last",
        prefix,
    )
    return f"{prefix}-{int(number):06d}"


async def case_parties(pool: asyncpg.Pool, case_id: str) -> Parties | None:
    """The parties of `case_id` from the read model; None while (or if) no row is projected."""
    row = await pool.fetchrow("SELECT requesting, requested FROM cases WHERE case_id = $1", case_id)
    return Parties(row["requesting"], row["requested"]) if row else None
