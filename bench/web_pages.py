"""Server time of the web pages with 10,000 cases in the `cases` read model.

A scratch schema gets 10,000 case rows (five states, two agreements, every status, deadlines
from ten days overdue to three months ahead) and, for the deemed acceptances, their events in
the event store. The real app (its lifespan, pool and projector; no Temporal server: reading
pages never calls it) answers in-process over ASGI; the metric is the `Server-Timing` the
pages report, p50 and p99, for the dashboard and the statistics of an officer (one state's
cases) and of an auditor of every state. The baseline is an empty page rendered in the same
run by the same machinery (session check, layout, headers). The issue's target: p99 < 300 ms.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from adapters.db.event_queries import analyze
from adapters.db.eventstore import EventStore
from adapters.db.migrate import migrate_dsn
from adapters.db.pool import connect, create_pool, quote_ident
from adapters.settings import Settings, get_settings
from api.app import create_app
from api.auth import Principal
from api.web.pages import SignedIn, WebRoute, environment
from api.web.session import start_session
from domain.stored import NewEvent

CASES = 10_000
TARGET_MS = 300.0
SECRET = "bench-secret-web-pages-0123456789abcdef"
PAIRS = [
    ("PL", "UA", "EU-UA"),
    ("DE", "UA", "EU-UA"),
    ("RO", "UA", "EU-UA"),
    ("UA", "PL", "EU-UA"),
    ("RO", "MD", "EU-MD"),
    ("DE", "MD", "EU-MD"),
    ("MD", "RO", "EU-MD"),
]
STATUSES = [
    ("draft", 5),
    ("submitted", 10),
    ("received", 20),
    ("accepted", 12),
    ("deemed_accepted", 4),
    ("refused", 8),
    ("transfer_scheduled", 10),
    ("transferred", 12),
    ("withdrawn", 3),
    ("lapsed", 2),
    ("returned_in_error", 1),
    ("closed", 13),
]
NEXT_LIMIT = {
    "draft": "submission",
    "submitted": None,
    "received": "reply",
    "accepted": "transfer",
    "deemed_accepted": "transfer",
    "transfer_scheduled": "transfer",
    "transferred": "readmission_in_error",
}
ZONES = {"PL": "Europe/Warsaw", "UA": "Europe/Kyiv", "MD": "Europe/Chisinau"}
ZONES |= {"RO": "Europe/Bucharest", "DE": "Europe/Berlin"}


def case_rows(count: int, now: datetime, rng: random.Random) -> list[tuple[Any, ...]]:
    """`count` rows of the `cases` table; deemed acceptances are flagged in the last column."""
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    numbers: dict[str, int] = {}
    rows = []
    for _ in range(count):
        requesting, requested, agreement = rng.choice(PAIRS)
        prefix = f"{requesting}-{requested}-{now.year}"
        numbers[prefix] = numbers.get(prefix, 0) + 1
        status = rng.choices(statuses, weights)[0]
        opened = now - timedelta(days=rng.uniform(5, 400))
        received = opened + timedelta(days=rng.uniform(0.5, 3)) if status != "draft" else None
        replied = None
        deemed = status == "deemed_accepted" or (status != "draft" and rng.random() < 0.05)
        if received and status not in ("draft", "submitted", "received"):
            replied = received + timedelta(days=14.0001 if deemed else rng.uniform(0.2, 25))
        limit = NEXT_LIMIT.get(status)
        acting = requested if limit in ("reply", "readmission_in_error") else requesting
        due = now + timedelta(days=rng.uniform(-10, 90)) if limit else None
        deadlines: dict[str, Any] = {}
        if received:
            deadlines["reply"] = {
                "due": (received + timedelta(days=14)).isoformat(),
                "time_zone": ZONES[requested],
                "calendar": requested,
                "running": status == "received",
            }
        if limit and due:
            deadlines[limit] = {
                "due": due.isoformat(),
                "time_zone": ZONES[acting],
                "calendar": acting,
                "running": True,
            }
        overdue = bool(due and due < now and rng.random() < 0.8)
        rows.append(
            (
                f"{prefix}-{numbers[prefix]:06d}",
                requesting,
                requested,
                agreement,
                None,
                "standard",
                rng.choice(["own_national", "third_country_national"]),
                status,
                f"SURNAME{rng.randrange(10_000)} A., {rng.randrange(1950, 2005)}",
                deadlines,
                [limit] if limit else [],
                limit,
                due,
                overdue,
                [limit] if overdue and limit else [],
                ["reply", "transfer"],
                None,
                opened,
                opened + timedelta(hours=2) if status != "draft" else None,
                received,
                replied,
                replied + timedelta(days=30)
                if replied and status in ("transferred", "closed")
                else None,
                now - timedelta(days=1) if status == "closed" else None,
                now - timedelta(hours=rng.uniform(0, 500)),
                rng.randrange(2, 20),
                0,
                deemed and replied is not None,
            )
        )
    return rows


COLUMNS = [
    *("case_id", "requesting", "requested", "agreement_id", "protocol_state", "procedure"),
    *("category", "status", "person_summary", "deadlines", "open_limits", "next_limit"),
    *("next_due", "overdue", "overdue_limits", "unverified_parameters", "verification_status"),
    *("opened_at", "submitted_at", "received_at", "replied_at", "transferred_at", "closed_at"),
    *("updated_at", "version", "last_position"),
]


async def fill(pool: asyncpg.Pool, count: int, now: datetime) -> int:
    """The read model's rows, and the events of the deemed acceptances; returns how many."""
    rows = case_rows(count, now, random.Random(7))
    marks = ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1))
    insert = f"INSERT INTO cases ({', '.join(COLUMNS)}) VALUES ({marks})"
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(insert, [r[:-1] for r in rows])
    store = EventStore(pool)
    deemed = [r for r in rows if r[-1]]

    async def append(row: tuple[Any, ...]) -> None:
        event = NewEvent(
            event_id=uuid.uuid4(),
            type="DeemedAccepted",
            schema_version=1,
            data={"at": row[20].isoformat(), "limit": "reply"},
        )
        await store.append(row[0], 0, [event])

    for start in range(0, len(deemed), 50):
        await asyncio.gather(*(append(r) for r in deemed[start : start + 50]))
    await pool.execute(
        "INSERT INTO projection_checkpoints (name, position) VALUES ('cases', $1)"
        " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
        await store.last_position(),
    )  # the projector must not fold these bare events into the hand-made rows
    await pool.execute("ANALYZE cases")
    await analyze(pool)
    return len(deemed)


def baseline_router() -> APIRouter:
    """An empty page through the same machinery as every page: the baseline."""
    router = APIRouter(route_class=WebRoute)

    @router.get("/ui/bench-empty", response_class=HTMLResponse)
    async def empty(page: SignedIn) -> HTMLResponse:
        return page.render(environment(page.lang).from_string('{% extends "base.html" %}'))

    return router


class NoTemporal:
    """Reading pages never reaches Temporal; anything that tries fails loudly."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"the page bench touched Temporal ({name})")


Get = Callable[[str], Awaitable[httpx.Response]]


async def server_times(get: Get, path: str, rounds: int) -> list[float]:
    """`Server-Timing: app;dur=` of `rounds` requests (after a few unmeasured ones)."""
    for _ in range(3):
        (await get(path)).raise_for_status()
    found = []
    for _ in range(rounds):
        answer = await get(path)
        answer.raise_for_status()
        found.append(float(answer.headers["server-timing"].split("dur=")[1]))
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(quick: bool) -> dict[str, Any]:
    dsn = get_settings().dsn()
    schema = f"bench_web_{secrets.token_hex(4)}"
    await migrate_dsn(dsn, schema=schema, create_schema=True)
    pool = await create_pool(dsn, schema=schema, min_size=1, max_size=8)
    rounds = 20 if quick else 100
    try:
        started = time.perf_counter()
        now = datetime.now(UTC)
        deemed = await fill(pool, CASES, now)
        took = time.perf_counter() - started
        print(f"  filled {CASES:,} cases ({deemed:,} deemed acceptances) in {took:.1f} s")
        separator = "&" if "?" in dsn else "?"
        settings = Settings(jwt_secret=SECRET, database_url=None, queue_prefix="bench-web")
        app = create_app(
            settings,
            database_url=f"{dsn}{separator}search_path={schema}",
            client=NoTemporal(),  # type: ignore[arg-type]
        )
        app.include_router(baseline_router())
        metrics: list[dict[str, Any]] = []
        async with app.router.lifespan_context(app):
            # web sessions (rows in `web_sessions`), as the sign-in page makes them
            services = app.state.services
            officer = await start_session(
                services, Principal("anna.pl", "officer", "PL", frozenset({"PL"})), "token"
            )
            auditor = await start_session(
                services, Principal("audit", "auditor", None, frozenset({"*"})), "token"
            )
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

                def as_(token: str) -> Get:
                    cookies = {"readmit_session": token}
                    return lambda path: http.get(path, cookies=cookies)

                baseline = statistics.median(
                    await server_times(as_(officer), "/ui/bench-empty", rounds)
                )
                pages = [
                    ("dashboard, officer (PL)", as_(officer), "/ui/"),
                    ("statistics, officer (PL)", as_(officer), "/ui/stats"),
                    ("dashboard, auditor (all)", as_(auditor), "/ui/"),
                    ("statistics, auditor (all)", as_(auditor), "/ui/stats"),
                    ("dashboard, overdue filter", as_(officer), "/ui/?overdue=1&side=requesting"),
                ]
                for name, get, path in pages:
                    times = await server_times(get, path, rounds)
                    p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
                    print(f"  {name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms (empty {baseline:.1f})")
                    for label, value in (("p50", p50), ("p99", p99)):
                        metrics.append(
                            {
                                "name": f"{name} {label}",
                                "unit": "ms",
                                "value": value,
                                "baseline": baseline,
                                "ratio": value / baseline if baseline else None,
                            }
                        )
        worst = max(m["value"] for m in metrics if m["name"].endswith("p99"))
        return {
            "metrics": metrics,
            "cases": CASES,
            "rounds": rounds,
            "target": {"p99_ms": TARGET_MS, "worst_p99_ms": worst, "met": worst < TARGET_MS},
        }
    finally:
        await pool.close()
        conn = await connect(dsn)
        try:
            await conn.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
        finally:
            await conn.close()
