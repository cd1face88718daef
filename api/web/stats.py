"""The figures a Joint Readmission Committee asks for, per agreement and counterpart state: cases
by status, median reply time, share of replies within the limit, deemed acceptances and overdue
transfers; from the read model's one query (`case_queries.committee_figures`, which finds
deemed acceptances among the events: later events hide them from a case's status), grouped
three ways: per status, per group, all.

Definitions:
- a reply is an acceptance or refusal actually sent (deemed acceptances are not replies); its
  time runs from the confirmed receipt to the reply;
- "within the limit" compares the reply with the reply deadline in force (after any extension);
- an overdue transfer is one whose limit has passed without it, or that happened after it.

Readmission and transit cases are counted apart (`StatsFilter.kind`, docs/transit.md): for a
transit, a reply is a consent or refusal, and a deemed consent counts with the deemed replies.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from adapters.db.case_queries import committee_figures
from api.auth import ALL_STATES
from domain.values import Status

STATUSES: tuple[str, ...] = tuple(s.value for s in Status)


@dataclass(frozen=True)
class StatsFilter:
    """Whose cases (the caller's states), which agreement, opened in [opened_from, opened_to)."""

    states: Collection[str]
    agreement: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    kind: str = "readmission"  # the kind of case counted: readmission | transit

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
    rows = await committee_figures(
        pool, states, f.own_state, f.agreement, f.opened_from, f.opened_to, f.kind
    )
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
    "kind",
)


def to_csv(groups: Sequence[Group], kind: str = "readmission") -> str:
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
                kind,
            ]
        )
    return out.getvalue()
