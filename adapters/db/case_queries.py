"""Reads of the `cases` read model: officers' filtered, scoped, keyset-paginated lists, the
parties of one case (what the API authorises a caller against), the committee's figures, the
gauges, and the few lookups other modules need.

Scope: a case belongs to its requesting state from its opening, and is disclosed to its
requested state only once submitted (`disclosed_sql`); a draft, and a draft withdrawn or lapsed
before submission, never is. Every scoped read here (lists, parties, figures, and the fragment
other tables' queries join with, `disclosed_to_sql`) applies that one definition.

The read model is `projector.py` (every write) and this module (every read): together they own
the `cases` table, and no other module names it in SQL (a test scans for that).
List order: overdue first, then by next deadline (none last), then by case id; the cursor is
the last row's sort key, so pages stay stable while cases change.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg

from adapters.db.event_queries import has_event_sql, last_event_data_sql, opening_data_sql

ALL = "*"
_SORT = "((NOT overdue)::int), (coalesce(next_due, 'infinity'::timestamptz)), case_id"


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Parties:
    """The states of a case, and whether it is disclosed to the requested one (`disclosed_sql`).

    The states are fixed when the case is opened; `disclosed` only ever turns true, so a row
    projected a moment late can hide a case just submitted, never show a draft."""

    requesting: str
    requested: str
    disclosed: bool


def disclosed_sql(alias: str = "") -> str:
    """SQL true when a row of the read model (`alias`: its table alias, if any) is disclosed to
    the case's requested state: the one definition, the requesting state has submitted it.
    `submitted_at` is set by the submission and never cleared, so a case once disclosed stays
    so, and a draft withdrawn or lapsed before submission never is."""
    return f"{alias}{'.' if alias else ''}submitted_at IS NOT NULL"


def seen_by(states: str, alias: str = "") -> str:
    """SQL true for a row of the read model that the holders of `states` (an SQL `text[]`
    expression) may know: theirs as the requesting state, or as the requested state once
    disclosed (`disclosed_sql`). `alias` qualifies the columns (`c` for `c.requesting`)."""
    at = f"{alias}." if alias else ""
    return (
        f"({at}requesting = ANY({states})"
        f" OR ({at}requested = ANY({states}) AND {disclosed_sql(alias)}))"
    )


def disclosed_to_sql(case_id: str, state: str) -> str:
    """SQL true when the case `case_id` (an SQL expression, e.g. a column) is known to `state`
    (an SQL text expression) as one of its parties: its requesting state always, its requested
    state once disclosed. A case the read model does not hold (yet) is known to nobody, so a
    query on another table (a notice, a log entry) shows nothing of it until it is projected."""
    return (
        f"EXISTS (SELECT 1 FROM cases c WHERE c.case_id = {case_id}"
        f" AND {seen_by(f'ARRAY[{state}]::text[]', 'c')})"
    )


@dataclass(frozen=True)
class Assigned:
    """Cases by their assignee on one state's side (the side `state` is party on in each case):
    `assignee` a user id, or None for the cases that side has no assignee for."""

    state: str
    assignee: str | None


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
    kind: str | None = None  # readmission | transit (docs/transit.md)
    assigned: Assigned | None = None  # by the assignee on one state's side (issue 17)
    # a reply awaiting a supervisor's approval on the caller's requested side (issue 17)
    awaiting_approval: bool | None = None


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
            clauses.append(f"(requested = ANY({states}) AND {disclosed_sql()})")
        else:
            clauses.append(seen_by(states))
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
    if f.kind:
        clauses.append(f"kind = {arg(f.kind)}")
    if f.overdue is not None:
        clauses.append(f"overdue = {arg(f.overdue)}")
    if f.due_before is not None:
        clauses.append(f"next_due < {arg(f.due_before)}")
    if f.assigned is not None:
        state, who = arg(f.assigned.state), arg(f.assigned.assignee)
        clauses.append(
            f"((requesting = {state} AND requesting_assignee IS NOT DISTINCT FROM {who}::text)"
            f" OR (requested = {state} AND requested_assignee IS NOT DISTINCT FROM {who}::text))"
        )
    if f.awaiting_approval is not None:
        clauses.append(_awaiting_approval(f, arg))
    if f.prefix:
        escaped = f.prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(f"case_id LIKE {arg(escaped + '%')}")
    return clauses


def _awaiting_approval(f: CaseFilter, arg: Any) -> str:
    """A reply drafted on the requested side awaits approval: the requested state's own
    deliberation (api/reply_draft_view.py), so only a row whose requested state is among
    `f.states` counts as awaiting; for the requesting state the same filter matches nothing
    (true) or everything (false), as if no draft existed."""
    own = "TRUE" if ALL in f.states else f"requested = ANY({arg(list(f.states))})"
    drafted = f"(reply_drafted_at IS NOT NULL AND {own} AND {disclosed_sql()})"
    return drafted if f.awaiting_approval else f"NOT {drafted}"


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


async def parties(pool: asyncpg.Pool, case_ids: Collection[str]) -> dict[str, Parties]:
    """The parties of each of `case_ids` the read model knows (a case not yet projected is
    absent)."""
    rows = await pool.fetch(
        f"SELECT case_id, requesting, requested, {disclosed_sql()} AS disclosed"
        " FROM cases WHERE case_id = ANY($1::text[])",
        sorted(case_ids),
    )
    return {r["case_id"]: Parties(r["requesting"], r["requested"], r["disclosed"]) for r in rows}


async def case_parties(pool: asyncpg.Pool, case_id: str) -> Parties | None:
    """The parties of `case_id` from the read model; None while (or if) no row is projected."""
    return (await parties(pool, (case_id,))).get(case_id)


async def read_case_row(pool: asyncpg.Pool, case_id: str) -> asyncpg.Record | None:
    """The read model's row of one case, None if it has none. Only bench/read_model.py reads
    a whole row (its baseline: a lookup by primary key); the API reads lists and parties."""
    return await pool.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)


async def some_case_ids(pool: asyncpg.Pool, limit: int) -> list[str]:
    """Up to `limit` case ids, in no particular order: the ids bench/read_model.py looks up."""
    return [r["case_id"] for r in await pool.fetch("SELECT case_id FROM cases LIMIT $1", limit)]


async def closed_at(pool: asyncpg.Pool, case_ids: Collection[str]) -> dict[str, datetime | None]:
    """When each of `case_ids` the read model knows was closed (None: still open)."""
    rows = await pool.fetch(
        "SELECT case_id, closed_at FROM cases WHERE case_id = ANY($1::text[])", sorted(case_ids)
    )
    return {r["case_id"]: r["closed_at"] for r in rows}


async def count_overdue(pool: asyncpg.Pool) -> int:
    """How many cases have a deadline past without its act."""
    return int(await pool.fetchval("SELECT count(*) FROM cases WHERE overdue"))


@dataclass(frozen=True)
class Gauges:
    """The read model's counts the metrics exporter publishes, read in one snapshot."""

    by_status: dict[tuple[str, str], int]  # (status, agreement id) → cases
    open_limits: dict[str, int]  # limit → running deadlines
    overdue_limits: dict[str, int]  # limit → overdue deadlines
    overdue_cases: int
    # limit → running deadlines whose due instant is before `now` with no escalation recorded
    # (the workflow's timer did not fire: no worker, or a stuck case; issue 18's alert)
    past_due_unescalated: dict[str, int] = field(default_factory=dict)
    # limit → running deadlines due between `now` and `now + DUE_SOON` (the dashboard's)
    due_soon: dict[str, int] = field(default_factory=dict)


DUE_SOON = timedelta(days=2)


_PAST_DUE_UNESCALATED = """
SELECT d.key, count(*)
  FROM cases c, jsonb_each(c.deadlines) AS d
 WHERE (d.value->>'running')::boolean
   AND (d.value->>'due')::timestamptz < $1
   AND NOT d.key = ANY(c.overdue_limits)
 GROUP BY d.key
"""

_DUE_SOON = """
SELECT d.key, count(*)
  FROM cases c, jsonb_each(c.deadlines) AS d
 WHERE (d.value->>'running')::boolean
   AND (d.value->>'due')::timestamptz >= $1 AND (d.value->>'due')::timestamptz < $2
 GROUP BY d.key
"""


async def gauges(pool: asyncpg.Pool, now: datetime) -> Gauges:
    """Six small aggregates, in one read-only repeatable-read transaction."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        by_status = await conn.fetch(
            "SELECT status, agreement_id, count(*) FROM cases GROUP BY status, agreement_id"
        )
        running = await conn.fetch(
            "SELECT l, count(*) FROM cases, unnest(open_limits) AS l GROUP BY l"
        )
        overdue = await conn.fetch(
            "SELECT l, count(*) FROM cases, unnest(overdue_limits) AS l GROUP BY l"
        )
        overdue_cases = await conn.fetchval("SELECT count(*) FROM cases WHERE overdue")
        unescalated = await conn.fetch(_PAST_DUE_UNESCALATED, now)
        soon = await conn.fetch(_DUE_SOON, now, now + DUE_SOON)
    return Gauges(
        by_status={(r[0], r[1]): r[2] for r in by_status},
        open_limits={r[0]: r[1] for r in running},
        overdue_limits={r[0]: r[1] for r in overdue},
        overdue_cases=int(overdue_cases),
        past_due_unescalated={r[0]: r[1] for r in unescalated},
        due_soon={r[0]: r[1] for r in soon},
    )


_RETENTION_DAYS = opening_data_sql("c.case_id", "{terms,retention,personal_data_days_after_close}")
_EXPIRED = f"""
SELECT c.case_id
  FROM cases c
  LEFT JOIN case_keys k ON k.case_id = c.case_id
 WHERE c.closed_at IS NOT NULL AND k.erased_at IS NULL
   AND c.closed_at + make_interval(days => coalesce(
         {_RETENTION_DAYS}::int, $3)) <= $1
 ORDER BY c.closed_at, c.case_id
 LIMIT $2
"""


async def past_retention(
    pool: asyncpg.Pool, at: datetime, limit: int, default_days: int
) -> list[str]:
    """Closed cases whose retention period (the opening terms', else `default_days` after the
    closure) has ended by `at` and whose data key is not erased, oldest closure first."""
    return [r["case_id"] for r in await pool.fetch(_EXPIRED, at, limit, default_days)]


# The committee's figures (api/web/stats.py says what each one means): the cases in scope
# (their states, agreement and opening period), grouped by agreement, counterpart and status.
# A deemed acceptance (or a transit's deemed consent) is found among the events: later events
# hide it from a case's status. Each kind of case is counted apart ($6).
_DEEMED = (
    f"({has_event_sql('s.case_id', 'DeemedAccepted')}"
    f" OR {has_event_sql('s.case_id', 'TransitDeemedConsented')})"
)
_SCOPED = seen_by("$1::text[]", "c")
_FIGURES = f"""
WITH scoped AS (
    SELECT c.case_id, c.agreement_id, c.status, c.received_at, c.replied_at, c.transferred_at,
           c.overdue_limits, c.deadlines,
           CASE WHEN $2::text IS NULL THEN c.requesting || '→' || c.requested
                WHEN c.requesting = $2::text THEN c.requested
                ELSE c.requesting END AS counterpart
    FROM cases c
    WHERE ($1::text[] IS NULL OR {_SCOPED})
      AND ($3::text IS NULL OR c.agreement_id = $3::text)
      AND ($4::timestamptz IS NULL OR c.opened_at >= $4::timestamptz)
      AND ($5::timestamptz IS NULL OR c.opened_at < $5::timestamptz)
      AND c.kind = $6::text
), marked AS (
    SELECT s.*,
           s.replied_at IS NOT NULL AND {_DEEMED} AS deemed,
           coalesce(s.deadlines #>> '{{reply,due}}',
                    s.deadlines #>> '{{accelerated_reply,due}}',
                    s.deadlines #>> '{{transit_reply,due}}')::timestamptz AS reply_due,
           (s.deadlines #>> '{{transfer,due}}')::timestamptz AS transfer_due,
           extract(epoch FROM s.replied_at - s.received_at) AS reply_seconds
    FROM scoped s
), figures AS (
    SELECT m.*, (reply_seconds IS NOT NULL AND NOT deemed) AS replied FROM marked m
)
SELECT agreement_id, counterpart, status,
       GROUPING(agreement_id, counterpart, status) AS level,
       count(*) AS cases,
       count(*) FILTER (WHERE replied) AS replies,
       count(*) FILTER (WHERE replied AND replied_at <= reply_due) AS within_limit,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY reply_seconds)
           FILTER (WHERE replied) AS median_reply_seconds,
       count(*) FILTER (WHERE deemed) AS deemed,
       count(*) FILTER (
           WHERE 'transfer' = ANY(overdue_limits) OR transferred_at > transfer_due
       ) AS overdue_transfers
FROM figures
GROUP BY GROUPING SETS ((agreement_id, counterpart, status), (agreement_id, counterpart), ())
ORDER BY agreement_id NULLS LAST, counterpart NULLS LAST, status NULLS FIRST
"""


async def committee_figures(
    pool: asyncpg.Pool,
    states: list[str] | None,
    own_state: str | None,
    agreement: str | None,
    opened_from: datetime | None,
    opened_to: datetime | None,
    kind: str = "readmission",
) -> list[asyncpg.Record]:
    """Rows per (agreement, counterpart, status) (`level` 0), per (agreement, counterpart) and
    for all cases of `kind` in scope; `states` None: every state; counterparts are relative to
    `own_state` when given, else written `requesting→requested`."""
    return await pool.fetch(_FIGURES, states, own_state, agreement, opened_from, opened_to, kind)


# The committee's breakdowns (api/web/stats.py says what each one means): the same cases in
# scope as `_FIGURES`, counted per month of opening (in the time zone $6), per procedure, per
# crossing point of the latest transfer plan (a transit's: its entry point), and per outcome of
# the verification. Acceptances and refusals are found among the events, as deemed acceptances
# are: a refused case may since have been closed, and its status says so, not the refusal.
def _any_event(*types: str) -> str:
    return "(" + " OR ".join(has_event_sql("s.case_id", t) for t in types) + ")"


_CROSSING = (
    "CASE WHEN s.kind = 'transit' THEN "
    + last_event_data_sql("s.case_id", "TransitScheduled", "{plan,entry_point}")
    + " ELSE "
    + last_event_data_sql("s.case_id", "TransferScheduled", "{plan,bcp}")
    + " END"
)
_BREAKDOWNS = f"""
WITH scoped AS (
    SELECT c.case_id, c.kind, c.procedure, c.verification_status, c.opened_at, c.replied_at,
           c.transferred_at
    FROM cases c
    WHERE ($1::text[] IS NULL OR {_SCOPED})
      AND ($2::text IS NULL OR c.agreement_id = $2::text)
      AND ($3::timestamptz IS NULL OR c.opened_at >= $3::timestamptz)
      AND ($4::timestamptz IS NULL OR c.opened_at < $4::timestamptz)
      AND c.kind = $5::text
), marked AS (
    SELECT to_char(s.opened_at AT TIME ZONE $6::text, 'YYYY-MM') AS month,
           s.procedure,
           btrim({_CROSSING}) AS crossing_point,
           s.verification_status AS verification,
           s.replied_at IS NOT NULL AND {_DEEMED} AS deemed,
           {_any_event("ApplicationAccepted", "TransitConsented")} AS accepted,
           {_any_event("ApplicationRefused", "TransitRefused")} AS refused,
           s.transferred_at IS NOT NULL AS transferred
    FROM scoped s
)
SELECT GROUPING(month, procedure, crossing_point, verification) AS level,
       month, procedure, crossing_point, verification,
       count(*) AS cases,
       count(*) FILTER (WHERE accepted OR refused) AS replies,
       count(*) FILTER (WHERE accepted) AS acceptances,
       count(*) FILTER (WHERE refused) AS refusals,
       count(*) FILTER (WHERE deemed) AS deemed,
       count(*) FILTER (WHERE transferred) AS transfers
FROM marked
GROUP BY GROUPING SETS ((month), (procedure), (crossing_point), (verification))
ORDER BY level, month, procedure, crossing_point NULLS LAST, verification NULLS LAST
"""
# GROUPING(...) of each set: the bit of every column left out is set (month is the highest)
BREAKDOWN_LEVELS = {7: "month", 11: "procedure", 13: "crossing_point", 14: "verification"}


async def committee_breakdowns(
    pool: asyncpg.Pool,
    states: list[str] | None,
    agreement: str | None,
    opened_from: datetime | None,
    opened_to: datetime | None,
    kind: str,
    time_zone: str,
) -> list[asyncpg.Record]:
    """Rows per month of opening (`YYYY-MM` in `time_zone`), procedure, crossing point and
    verification outcome of the cases of `kind` in scope (`states` None: every state); each
    row's `level` names its dimension (`BREAKDOWN_LEVELS`), the other dimensions' columns NULL.
    A NULL crossing point or verification: none recorded."""
    return await pool.fetch(_BREAKDOWNS, states, agreement, opened_from, opened_to, kind, time_zone)


def known_to_any_sql(case_id: str, states: str) -> str:
    """SQL true when the case `case_id` (an SQL expression) is known to a holder of `states`
    (an SQL `text[]` expression, `*` in it for every state): `seen_by` for another table's
    query (the person search's index), nobody's for a case the read model does not hold yet."""
    return (
        f"EXISTS (SELECT 1 FROM cases c WHERE c.case_id = {case_id}"
        f" AND ({states} @> ARRAY['{ALL}']::text[] OR {seen_by(states, 'c')}))"
    )


async def case_rows(pool: asyncpg.Pool, case_ids: Collection[str]) -> dict[str, asyncpg.Record]:
    """The read model's rows of `case_ids` (those it holds), for a list of cases found
    otherwise (the person search): callers have scoped the ids already."""
    rows = await pool.fetch("SELECT * FROM cases WHERE case_id = ANY($1)", list(case_ids))
    return {r["case_id"]: r for r in rows}


async def workload_rows(pool: asyncpg.Pool, state: str) -> list[asyncpg.Record]:
    """The open (not closed) cases `state` knows, with its own side's assignee (`assignee`,
    None: unassigned) and what urgency needs (`next_limit`, `next_due`, `overdue`, `deadlines`):
    the supervisors' workload view (issue 17)."""
    return await pool.fetch(
        "SELECT next_limit, next_due, overdue, deadlines,"
        " CASE WHEN requesting = $1 THEN requesting_assignee ELSE requested_assignee END"
        " AS assignee,"
        # a reply awaiting approval counts for the requested state only (its own draft)
        " (requested = $1 AND reply_drafted_at IS NOT NULL) AS awaiting_approval FROM cases"
        f" WHERE status <> 'closed' AND {seen_by('ARRAY[$1]::text[]')}",
        state,
    )
