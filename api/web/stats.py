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

The same cases are also broken down (`breakdowns`, `case_queries.committee_breakdowns`), each
dimension counting every case in scope once:
- per month of opening, in the caller's time zone (`StatsFilter.time_zone`): the month a case
  belongs to never changes, so a month's cases are a cohort whose replies, refusals and
  transfers are counted as they happen, whenever they happen; the period filter selects by the
  same instant, so the months shown are exactly those the filter covers. Months without cases
  between the first and the last shown are listed with zeros;
- per procedure (standard or accelerated);
- per crossing point: the border crossing point of the case's latest transfer plan (a
  transit's: its entry point), as the officer wrote it; none before a transfer is scheduled;
- per outcome of the verification (confirmed, not confirmed, inconclusive, none recorded).
  Refusal reasons are free text sealed with the case's key, and the domain records no
  structured grounds of a refusal: they cannot be counted. The refusals per verification
  outcome are the one non-personal fact about why cases were refused that the read model holds.
In each: cases, replies (acceptances and refusals sent, as events: a refused case closed since
still counts), acceptances (a transit's consents), refusals, deemed acceptances and transfers
done.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal, cast
from zoneinfo import ZoneInfo

import asyncpg

from adapters.db.case_queries import BREAKDOWN_LEVELS, committee_breakdowns, committee_figures
from api.auth import ALL_STATES, Principal
from api.problems import Problem
from domain.calendars import TIME_ZONES
from domain.values import CaseKind, Status

STATUSES: tuple[str, ...] = tuple(s.value for s in Status)


@dataclass(frozen=True)
class StatsFilter:
    """Whose cases (the caller's states), which agreement, opened in [opened_from, opened_to)."""

    states: Collection[str]
    agreement: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    kind: str = "readmission"  # the kind of case counted: readmission | transit
    time_zone: str = "UTC"  # whose months: the caller's own state's time zone

    @property
    def own_state(self) -> str | None:
        """The one state the figures are seen from (counterparts are relative to it)."""
        if ALL_STATES in self.states or len(self.states) != 1:
            return None
        return next(iter(self.states))


def caller_zone(caller: Principal) -> str:
    """The caller's own state's time zone (UTC for auditors, who have no one state): the days
    of the period filter and the months of the breakdowns are that zone's."""
    return TIME_ZONES.get(caller.state or "", "UTC")


def parse_day(text: str | None, name: str) -> date | None:
    """A day of the period filter as the page and `GET /stats` take it, ISO 8601 `YYYY-MM-DD`
    (not, as pydantic's dates would, a number of seconds since 1970); a day that is not one is
    bad input (422) naming the filter `name`."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise Problem(422, "Invalid input", f"{name}: not a date: {text}") from error


def stats_filter(
    caller: Principal,
    *,
    agreement: str | None = None,
    first: date | None = None,
    last: date | None = None,
    kind: str = CaseKind.READMISSION.value,
) -> StatsFilter:
    """The statistics' selection for `caller`, as the page, its CSV and `GET /stats` take it:
    the caller's states, an agreement, cases opened from the day `first` to the day `last`
    (both included, in the caller's time zone) and the kind of case. Administrators see no
    cases (403); an agreement that is no agreement id, an unknown kind or a period ending
    before it starts is bad input (422)."""
    if caller.role == "admin":
        raise Problem(403, "Forbidden", "administrators manage the directory, not cases")
    agreement = (agreement or "").strip().upper() or None
    if agreement and not re.fullmatch(r"[A-Z]{2,3}-[A-Z]{2,3}", agreement):
        raise Problem(422, "Invalid input", f"agreement: not an agreement id: {agreement}")
    if kind not in {k.value for k in CaseKind}:
        raise Problem(422, "Invalid input", f"kind: readmission or transit, not {kind}")
    if first and last and last < first:
        raise Problem(422, "Invalid input", f"to: {last} is before from: {first}")
    zone_name = caller_zone(caller)
    zone = ZoneInfo(zone_name)
    # the calendar's first day (0001-01-01, east of UTC before year 1) and last (9999-12-31,
    # no day after it) leave the period open at that end
    start = datetime.combine(first, time(), zone) if first and first > date.min else None
    end = (
        datetime.combine(last + timedelta(days=1), time(), zone)
        if last and last < date.max
        else None
    )
    return StatsFilter(caller.states, agreement, start, end, kind, zone_name)


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


Dimension = Literal["month", "procedure", "crossing_point", "verification"]
DIMENSIONS: tuple[Dimension, ...] = ("month", "procedure", "crossing_point", "verification")


@dataclass
class Breakdown:
    """The figures of the cases sharing one value of a dimension (`value` None: the case has
    none, e.g. no transfer scheduled yet, no verification recorded)."""

    value: str | None
    cases: int = 0
    replies: int = 0
    acceptances: int = 0
    refusals: int = 0
    deemed: int = 0
    transfers: int = 0


def _months(first: str, last: str) -> list[str]:
    """Every month `YYYY-MM` from `first` to `last`, both included."""
    year, month = int(first[:4]), int(first[5:])
    found = []
    while (key := f"{year:04d}-{month:02d}") <= last:
        found.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


async def breakdowns(pool: asyncpg.Pool, f: StatsFilter) -> dict[Dimension, list[Breakdown]]:
    """Each dimension's rows: months in order (gaps filled with zeros), procedures, crossing
    points and verification outcomes by value (none last)."""
    states = None if ALL_STATES in f.states else sorted(f.states)
    rows = await committee_breakdowns(
        pool, states, f.agreement, f.opened_from, f.opened_to, f.kind, f.time_zone
    )
    found: dict[Dimension, list[Breakdown]] = {d: [] for d in DIMENSIONS}
    for row in rows:
        dimension = cast(Dimension, BREAKDOWN_LEVELS[row["level"]])
        found[dimension].append(
            Breakdown(
                row[dimension],
                int(row["cases"]),
                int(row["replies"]),
                int(row["acceptances"]),
                int(row["refusals"]),
                int(row["deemed"]),
                int(row["transfers"]),
            )
        )
    months = {b.value: b for b in found["month"] if b.value}
    if months:
        found["month"] = [months.get(m) or Breakdown(m) for m in _months(min(months), max(months))]
    return found


BREAKDOWN_CSV_HEADER = (
    "dimension",
    "value",
    "cases",
    "replies",
    "acceptances",
    "refusals",
    "deemed",
    "transfers",
    "kind",
)


def breakdowns_csv(found: dict[Dimension, list[Breakdown]], kind: str = "readmission") -> str:
    """The breakdowns as one table (RFC 4180): a row per dimension and value, in the page's
    order; an empty value is none (no crossing point, no verification)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BREAKDOWN_CSV_HEADER)
    for dimension in DIMENSIONS:
        for b in found[dimension]:
            writer.writerow(
                [
                    dimension,
                    b.value or "",
                    b.cases,
                    b.replies,
                    b.acceptances,
                    b.refusals,
                    b.deemed,
                    b.transfers,
                    kind,
                ]
            )
    return out.getvalue()


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
