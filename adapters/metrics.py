"""Readmit's own Prometheus metrics, beside the Temporal SDK's (exported by its runtime).

What is counted where:
- the read model (cases by status and agreement, running and overdue deadlines by limit) is
  refreshed from the `cases` table by `refresh_read_model`, which the API runs every few seconds
  (`follow_read_model`), so a scrape never waits on the database;
- the time from confirmed receipt to the requested state's reply is observed by the projector
  when it applies a reply event (`observe_reply`); a projection *rebuild* observes every past
  reply again, so read the histogram as a rate, not as a running total;
- notification outcomes are counted by the dispatcher, event-store appends timed by the commit
  activity (`commit_case_events`), and the projector's lag (events appended but not yet
  projected) set as it follows.

Counters and histograms live in the process that does the work: workers expose theirs with
`start_exporter`, the API serves its own on `/metrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import TypeVar

import asyncpg
import structlog
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from adapters.db import case_queries
from domain.events import ApplicationAccepted, ApplicationRefused, DeemedAccepted, Event
from domain.state import CaseState

Labels = TypeVar("Labels", bound=tuple[str, ...])

log = structlog.get_logger(__name__)

HOUR = 3600.0
DAY = 24 * HOUR
# Replies come in days (a 14-day limit, extensions to 60 days, accelerated ones in 2 working days)
REPLY_BUCKETS = (HOUR, 6 * HOUR, DAY, 2 * DAY, 3 * DAY, 7 * DAY, 10 * DAY, 14 * DAY, 21 * DAY,
                 30 * DAY, 45 * DAY, 60 * DAY, 90 * DAY)  # fmt: skip
APPEND_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

CASES = Gauge(
    "readmit_cases", "Cases in the read model, by status and agreement", ["status", "agreement"]
)
OPEN_DEADLINES = Gauge("readmit_open_deadlines", "Running deadlines, by limit", ["limit"])
OVERDUE_DEADLINES = Gauge(
    "readmit_overdue_deadlines", "Deadlines past their escalation point, by limit", ["limit"]
)
OVERDUE_CASES = Gauge("readmit_overdue_cases", "Cases with at least one overdue deadline")
REPLY_SECONDS = Histogram(
    "readmit_reply_seconds",
    "Time from confirmed receipt to the reply (accepted, refused or deemed accepted)",
    ["requested", "outcome"],
    buckets=REPLY_BUCKETS,
)
NOTIFICATIONS = Counter(
    "readmit_notifications",
    "Outbox deliveries by channel and outcome (sent, pending = retry later, failed, unmarked)",
    ["channel", "outcome"],
)
APPEND_SECONDS = Histogram(
    "readmit_event_append_seconds",
    "Latency of one event-store append (one transaction)",
    buckets=APPEND_BUCKETS,
)
PROJECTOR_LAG = Gauge(
    "readmit_projector_lag_events",
    "Events appended but not yet applied by the projection",
    ["projection"],
)
READ_MODEL_REFRESHED = Gauge(
    "readmit_read_model_refreshed_timestamp_seconds",
    "When the read-model gauges were last refreshed (Unix time)",
)

_REPLY_OUTCOMES: dict[type, str] = {
    ApplicationAccepted: "accepted",
    ApplicationRefused: "refused",
    DeemedAccepted: "deemed_accepted",
}


def observe_reply(state_before: CaseState, event: Event) -> None:
    """Observe receipt → reply for a reply event (called by the projector for every event)."""
    outcome = _REPLY_OUTCOMES.get(type(event))
    if outcome is None or state_before.received_at is None or state_before.terms is None:
        return
    seconds = (event.at - state_before.received_at).total_seconds()
    REPLY_SECONDS.labels(state_before.terms.requested, outcome).observe(max(seconds, 0.0))


def record_notification(channel: str, outcome: str) -> None:
    NOTIFICATIONS.labels(channel, outcome).inc()


async def refresh_read_model(pool: asyncpg.Pool) -> None:
    """Set the read-model gauges from the `cases` read model (one snapshot of its counts)."""
    counts = await case_queries.gauges(pool)
    # No await from here on: a scrape sees either the old values or all the new ones.
    _replace(CASES, counts.by_status)
    _replace(OPEN_DEADLINES, {(limit,): n for limit, n in counts.open_limits.items()})
    _replace(OVERDUE_DEADLINES, {(limit,): n for limit, n in counts.overdue_limits.items()})
    OVERDUE_CASES.set(counts.overdue_cases)
    READ_MODEL_REFRESHED.set_to_current_time()


def _replace(gauge: Gauge, values: Mapping[Labels, int]) -> None:
    """Set `gauge` to exactly `values`: label sets that vanished (e.g. a status now at 0) go."""
    gauge.clear()
    for labels, value in values.items():
        gauge.labels(*labels).set(value)


async def follow_read_model(
    pool: asyncpg.Pool, stop: asyncio.Event, interval_seconds: float = 10.0
) -> None:
    """Refresh the read-model gauges every `interval_seconds` until `stop` is set."""
    while not stop.is_set():
        try:
            await refresh_read_model(pool)
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as error:
            log.warning("metrics refresh failed", error_type=type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_seconds)


def set_projector_lag(projection: str, last_position: int, checkpoint: int) -> None:
    PROJECTOR_LAG.labels(projection).set(max(last_position - checkpoint, 0))


def start_exporter(address: str | None) -> None:
    """Serve this process's metrics on `host:port` (workers; the API has `/metrics`)."""
    if not address:
        return
    host, _, port = address.rpartition(":")
    start_http_server(int(port), addr=host or "0.0.0.0")
