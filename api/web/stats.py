"""The figures a Joint Readmission Committee asks for, per agreement and counterpart state: cases
by status, median reply time, share of replies within the limit, deemed acceptances and overdue
transfers; from the `cases` read model (and `case_events` for deemed acceptances, which later
events hide from a case's status). One query, grouped three ways: per status, per group, all.

Definitions:
- a reply is an acceptance or refusal actually sent (deemed acceptances are not replies); its
  time runs from the confirmed receipt to the reply;
- "within the limit" compares the reply with the reply deadline in force (after any extension);
- an overdue transfer is one whose limit has passed without it, or that happened after it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from api.auth import ALL_STATES
from domain.values import Status

STATUSES: tuple[str, ...] = tuple(s.value for s in Status)

_FIGURES = """
WITH scoped AS (
    SELECT c.case_id, c.agreement_id, c.status, c.received_at, c.replied_at, c.transferred_at,
           c.overdue_limits, c.deadlines,
           CASE WHEN $2::text IS NULL THEN c.requesting || '→' || c.requested
                WHEN c.requesting = $2::text THEN c.requested
                ELSE c.requesting END AS counterpart
    FROM cases c
    WHERE ($1::text[] IS NULL OR c.requesting = ANY($1::text[]) OR c.requested = ANY($1::text[]))
      AND ($3::text IS NULL OR c.agreement_id = $3::text)
      AND ($4::timestamptz IS NULL OR c.opened_at >= $4::timestamptz)
      AND ($5::timestamptz IS NULL OR c.opened_at < $5::timestamptz)
), marked AS (
    SELECT s.*,
           s.replied_at IS NOT NULL AND EXISTS (
               SELECT 1 FROM case_events e
               WHERE e.stream_id = s.case_id AND e.type = 'DeemedAccepted'
           ) AS deemed,
           coalesce(s.deadlines #>> '{reply,due}',
                    s.deadlines #>> '{accelerated_reply,due}')::timestamptz AS reply_due,
           (s.deadlines #>> '{transfer,due}')::timestamptz AS transfer_due,
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


@dataclass(frozen=True)
class StatsFilter:
    """Whose cases (the caller's states), which agreement, opened in [opened_from, opened_to)."""

    states: Collection[str]
    agreement: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None

    @property
    def own_state(self) -> str | None:
        """The one state the figures are seen from (counterparts are relative to it)."""
        if ALL_STATES in self.states or len(self.states) != 1:
            return None
        return next(iter(self.states))


@dataclass
class Group:
    """The figures of one agreement and counterpart (both None: all cases in scope)."""

    agreement: str | None
    counterpart: str | None
    cases: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    replies: int = 0
    within_limit: int = 0
    median_reply_seconds: float | None = None
    deemed: int = 0
    overdue_transfers: int = 0

    @property
    def is_total(self) -> bool:
        return self.agreement is None

    @property
    def share_within_limit(self) -> float | None:
        return self.within_limit / self.replies if self.replies else None

    @property
    def median_reply_days(self) -> float | None:
        seconds = self.median_reply_seconds
        return None if seconds is None else seconds / 86400


async def figures(pool: asyncpg.Pool, f: StatsFilter) -> list[Group]:
    """Groups in agreement and counterpart order, the total (all cases in scope) last."""
    states = None if ALL_STATES in f.states else sorted(f.states)
    rows = await pool.fetch(_FIGURES, states, f.own_state, f.agreement, f.opened_from, f.opened_to)
    groups: dict[tuple[str | None, str | None], Group] = {}
    for row in rows:
        key = (row["agreement_id"], row["counterpart"])
        group = groups.setdefault(key, Group(*key))
        if row["level"] == 0:
            group.by_status[row["status"]] = int(row["cases"])
            continue
        group.cases = int(row["cases"])
        group.replies = int(row["replies"])
        group.within_limit = int(row["within_limit"])
        median = row["median_reply_seconds"]
        group.median_reply_seconds = float(median) if median is not None else None
        group.deemed = int(row["deemed"])
        group.overdue_transfers = int(row["overdue_transfers"])
    total = groups.pop((None, None), Group(None, None))
    for group in groups.values():
        for status, count in group.by_status.items():
            total.by_status[status] = total.by_status.get(status, 0) + count
    return [*groups.values(), total]


CSV_HEADER = (
    "agreement",
    "counterpart",
    "cases",
    *(f"status_{s}" for s in STATUSES),
    "replies",
    "median_reply_days",
    "replies_within_limit",
    "share_within_limit",
    "deemed_acceptances",
    "overdue_transfers",
)


def to_csv(groups: Sequence[Group]) -> str:
    """The same figures as the page, one row per group and a final 'all' row (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for g in groups:
        share = g.share_within_limit
        days = g.median_reply_days
        writer.writerow(
            [
                g.agreement or "all",
                g.counterpart or "all",
                g.cases,
                *(g.by_status.get(s, 0) for s in STATUSES),
                g.replies,
                "" if days is None else f"{days:.2f}",
                g.within_limit,
                "" if share is None else f"{share:.4f}",
                g.deemed,
                g.overdue_transfers,
            ]
        )
    return out.getvalue()
