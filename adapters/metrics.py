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

Issue 18 adds what the alert rules and the dashboard in deploy/ need: running deadlines past
their due instant with no escalation recorded (the read model, refreshed as above), HTTP
requests per route template (`api.http_metrics`), which task queues a worker process polls,
how long a message between nodes took to be receipted and why attempts failed (the delivery
activity), and when the certificates a process was given expire (`adapters.cert_expiry`).
deploy/prometheus/alerts.yml and deploy/grafana/dashboards/readmit.json name only these.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg
import structlog
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from adapters.db import case_queries
from domain.events import (
    ApplicationAccepted,
    ApplicationRefused,
    DeadlineEscalated,
    DeemedAccepted,
    EscalationRepeated,
    Event,
)
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

# --- issue 18: what the alert rules and the dashboard need --------------------------------------
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PAST_DUE_UNESCALATED = Gauge(
    "readmit_deadlines_past_due_unescalated",
    "Running deadlines past their due instant with no escalation recorded, by limit",
    ["limit"],
)
DUE_SOON = Gauge(
    "readmit_deadlines_due_soon",
    "Running deadlines due within the next two days (case_queries.DUE_SOON), by limit",
    ["limit"],
)
HTTP_REQUESTS = Counter(
    "readmit_http_requests",
    "HTTP requests answered, by route template, method and status code",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "readmit_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method",
    ["route", "method"],
    buckets=HTTP_BUCKETS,
)
WORKER_POLLING = Gauge(
    "readmit_worker_polling",
    "1 while this process's worker polls the task queue, 0 once it stopped",
    ["task_queue"],
)
FEDERATION_DELIVERY_SECONDS = Histogram(
    "readmit_federation_delivery_seconds",
    "Time from a message's first signing to the peer's final receipt (sender's clock)",
    ["peer"],
    buckets=(1.0, 5.0, 15.0, 60.0, 300.0, 900.0, HOUR, 6 * HOUR, DAY, 3 * DAY),
)
FEDERATION_DELIVERY_FAILURES = Counter(
    "readmit_federation_delivery_failures",
    "Failed attempts to deliver a message to a peer node (retried), by peer and reason",
    ["peer", "reason"],
)
ESCALATIONS = Counter(
    "readmit_escalations",
    "Reminders and escalations recorded (DeadlineEscalated, EscalationRepeated), by limit and "
    "level; observed by the projector, so a rebuild counts them again: read it as a rate",
    ["limit", "level"],
)
CERTIFICATE_EXPIRY = Gauge(
    "readmit_certificate_expiry_timestamp_seconds",
    "When a certificate this process was given expires (Unix time), by setting",
    ["certificate"],
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


def observe_escalation(event: Event) -> None:
    """Count a reminder or escalation (called by the projector for every event)."""
    if isinstance(event, DeadlineEscalated):
        ESCALATIONS.labels(event.limit, event.level.value).inc()
    elif isinstance(event, EscalationRepeated):
        ESCALATIONS.labels(event.limit, "escalation_repeated").inc()


def record_notification(channel: str, outcome: str) -> None:
    NOTIFICATIONS.labels(channel, outcome).inc()


async def refresh_read_model(pool: asyncpg.Pool, now: datetime | None = None) -> None:
    """Set the read-model gauges from the `cases` read model (one snapshot of its counts);
    deadlines are past due or due soon relative to `now` (the clock's, unless a test says)."""
    counts = await case_queries.gauges(pool, now or datetime.now(UTC))
    # No await from here on: a scrape sees either the old values or all the new ones.
    _replace(CASES, counts.by_status)
    _replace(OPEN_DEADLINES, {(limit,): n for limit, n in counts.open_limits.items()})
    _replace(OVERDUE_DEADLINES, {(limit,): n for limit, n in counts.overdue_limits.items()})
    OVERDUE_CASES.set(counts.overdue_cases)
    unescalated = counts.past_due_unescalated
    _replace(PAST_DUE_UNESCALATED, {(limit,): n for limit, n in unescalated.items()})
    _replace(DUE_SOON, {(limit,): n for limit, n in counts.due_soon.items()})
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


def record_worker_polling(task_queue: str, polling: bool) -> None:
    WORKER_POLLING.labels(task_queue).set(1 if polling else 0)


def observe_federation_delivery(peer: str, seconds: float) -> None:
    FEDERATION_DELIVERY_SECONDS.labels(peer).observe(max(seconds, 0.0))


def record_federation_failure(peer: str, reason: str) -> None:
    FEDERATION_DELIVERY_FAILURES.labels(peer, reason).inc()
