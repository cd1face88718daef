"""Listing overdue cases among 1,000,000 rows of the `cases` read model (quick: 100,000).

A scratch schema gets the rows from one `generate_series` (seven state pairs, every status,
deadlines from ten days overdue to three months ahead, about 5 % overdue), its indexes rebuilt,
then VACUUM ANALYZE as autovacuum would. The measured calls are the API's own: `list_cases` from
adapters/db/case_queries.py with the filters of the overdue list of an officer (one state), of
the dashboard's "overdue, our side" view, and of an auditor of every state; each runs many
times and p50/p99 are reported. The baseline is a primary-key lookup on the same table in the
same run. The issue's target: p99 < 50 ms.
"""

from __future__ import annotations

import random
import time
from typing import Any

import asyncpg

from adapters.db.case_queries import (
    CaseFilter,
    count_overdue,
    list_cases,
    read_case_row,
    some_case_ids,
)
from adapters.db.pool import quote_ident
from api.auth import Principal
from api.web.stats import breakdowns, figures, stats_filter
from bench._support import latency_metrics, percentile, schema_pool, scratch_schema

TARGET_P99_MS = 50.0
LOAD_SECONDS = 600.0  # bounds the load statements (the pool's default is a minute)
FILL = """
WITH drawn AS (
    SELECT g, random() AS r_status, random() AS r_due, random() AS r_overdue, random() AS r_age
    FROM generate_series(1, $1) AS g
), shaped AS (
    SELECT g, r_overdue,
        (ARRAY['PL','DE','RO','UA','RO','DE','MD'])[g % 7 + 1] AS requesting,
        (ARRAY['UA','UA','UA','PL','MD','MD','RO'])[g % 7 + 1] AS requested,
        (ARRAY['EU-UA','EU-UA','EU-UA','EU-UA','EU-MD','EU-MD','EU-MD'])[g % 7 + 1] AS agreement,
        CASE
            WHEN r_status < 0.05 THEN 'draft'
            WHEN r_status < 0.15 THEN 'submitted'
            WHEN r_status < 0.35 THEN 'received'
            WHEN r_status < 0.47 THEN 'accepted'
            WHEN r_status < 0.51 THEN 'deemed_accepted'
            WHEN r_status < 0.59 THEN 'refused'
            WHEN r_status < 0.69 THEN 'transfer_scheduled'
            WHEN r_status < 0.81 THEN 'transferred'
            WHEN r_status < 0.84 THEN 'withdrawn'
            WHEN r_status < 0.86 THEN 'lapsed'
            WHEN r_status < 0.87 THEN 'returned_in_error'
            ELSE 'closed'
        END AS status,
        now() - (5 + r_age * 400) * interval '1 day' AS opened_at,
        now() + (r_due * 100 - 10) * interval '1 day' AS due
    FROM drawn
), limited AS (
    SELECT *,
        CASE status
            WHEN 'draft' THEN 'submission'
            WHEN 'received' THEN 'reply'
            WHEN 'accepted' THEN 'transfer'
            WHEN 'deemed_accepted' THEN 'transfer'
            WHEN 'transfer_scheduled' THEN 'transfer'
            WHEN 'transferred' THEN 'readmission_in_error'
        END AS next_limit
    FROM shaped
), flagged AS (
    SELECT *, next_limit IS NOT NULL AND due < now() AND r_overdue < 0.8 AS overdue FROM limited
)
INSERT INTO cases (case_id, requesting, requested, agreement_id, procedure, category, status,
    person_summary, deadlines, open_limits, next_limit, next_due, overdue, overdue_limits,
    opened_at, submitted_at, updated_at, version, last_position)
SELECT
    requesting || '-' || requested || '-' || (2000 + g / 100000)::text || '-'
        || lpad((g % 100000)::text, 6, '0'),
    requesting, requested, agreement, 'standard',
    CASE WHEN g % 3 = 0 THEN 'third_country_national' ELSE 'own_national' END,
    status,
    'SURNAME' || (g % 10000)::text || ' A., ' || (1950 + g % 55)::text,
    CASE WHEN next_limit IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(next_limit,
        jsonb_build_object('due', due, 'time_zone', 'Europe/Kyiv', 'calendar', requested,
                           'running', true)) END,
    CASE WHEN next_limit IS NULL THEN '{}'::text[] ELSE ARRAY[next_limit] END,
    next_limit,
    CASE WHEN next_limit IS NULL THEN NULL ELSE due END,
    overdue,
    CASE WHEN overdue THEN ARRAY[next_limit] ELSE '{}'::text[] END,
    opened_at,
    CASE WHEN status = 'draft' THEN NULL ELSE opened_at + interval '2 hours' END,
    opened_at + interval '3 days',
    5,
    g
FROM flagged
"""
QUERIES = [
    ("overdue list, officer (PL)", CaseFilter(states=("PL",), overdue=True)),
    ("overdue, our side (PL)", CaseFilter(states=("PL",), side="requesting", overdue=True)),
    ("overdue list, auditor (all)", CaseFilter(states=("*",), overdue=True)),
]
# issue 18: the dashboard's first page (every case of the officer's state, no filter) and the
# statistics page's figures and breakdowns of that state, against the same primary-key read
DASHBOARD = ("dashboard, officer (PL)", CaseFilter(states=("PL",)))
STATISTICS = "statistics, officer (PL)"
OFFICER = Principal(user_id="bench.anna", role="officer", state="PL", states=frozenset({"PL"}))
STATISTICS_RUNS = 30  # each reads every case of the state: fewer runs, p99 then near the worst


async def fill(pool: asyncpg.Pool, rows: int) -> dict[str, Any]:
    """`rows` cases in one statement, then VACUUM ANALYZE; returns what was made and how fast.

    The secondary indexes are dropped for the load and rebuilt from their own definitions
    (`pg_indexes`, i.e. exactly the migrations'), as a bulk load into a new table would be done.
    """
    started = time.perf_counter()
    async with pool.acquire() as conn:
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename = 'cases' AND indexname <> 'cases_pkey'"
        )
        for index in indexes:
            await conn.execute(f"DROP INDEX {quote_ident(index['indexname'])}")
        await conn.execute("SELECT setseed(0.42)")
        await conn.execute(FILL, rows, timeout=LOAD_SECONDS)
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for index in indexes:
            await conn.execute(index["indexdef"], timeout=LOAD_SECONDS)
        await conn.execute("VACUUM ANALYZE cases", timeout=LOAD_SECONDS)
    filled = time.perf_counter() - started
    overdue = await count_overdue(pool)
    print(f"  filled {rows:,} cases ({overdue:,} overdue) and indexed them in {filled:.1f} s")
    return {"rows": rows, "overdue": overdue, "fill_seconds": round(filled, 1)}


async def timings(pool: asyncpg.Pool, call: Any, runs: int) -> list[float]:
    """Milliseconds of `runs` calls of `call(i)`, after five unmeasured ones."""
    for i in range(5):
        await call(i)
    found = []
    for i in range(runs):
        started = time.perf_counter()
        await call(i)
        found.append((time.perf_counter() - started) * 1000)
    return found


async def plan_of(pool: asyncpg.Pool, f: CaseFilter) -> str:
    """The plan PostgreSQL chooses for the list query (recorded with the figures)."""
    captured: list[str] = []

    class Explaining:
        async def fetch(self, sql: str, *args: Any) -> list[Any]:
            rows = await pool.fetch(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", *args)
            captured.extend(r[0] for r in rows)
            return []

    await list_cases(Explaining(), f)  # type: ignore[arg-type]
    return "\n".join(captured)


async def measure(rows: int, runs: int, dsn: str | None = None) -> dict[str, Any]:
    """Fill `rows` cases into a scratch schema on `dsn` and time `runs` calls of each query."""
    async with scratch_schema("bench_rm", dsn) as scratch, schema_pool(scratch, size=4) as pool:
        filled = await fill(pool, rows)
        ids = await some_case_ids(pool, 5000)
        random.Random(3).shuffle(ids)

        async def by_key(i: int) -> None:
            assert await read_case_row(pool, ids[i % len(ids)]) is not None

        baseline = await timings(pool, by_key, runs)
        metrics: list[dict[str, Any]] = []
        plans = {}
        for name, case_filter in QUERIES:

            async def listing(_: int, f: CaseFilter = case_filter) -> None:
                page, _cursor = await list_cases(pool, f)
                assert page and all(r["overdue"] for r in page)

            values = await timings(pool, listing, runs)
            p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
            key_p50 = percentile(baseline, 0.5)
            print(f"  {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms (by key p50 {key_p50:.2f} ms)")
            metrics += latency_metrics(name, values, baseline)
            plans[name] = await plan_of(pool, case_filter)
        metrics += await pages(pool, baseline, min(runs, STATISTICS_RUNS))
        dashboard_plan = await plan_of(pool, DASHBOARD[1])
    worst = max(m["value"] for m in metrics if m["name"].endswith("p99"))
    return {
        "metrics": metrics,
        **filled,
        "runs": runs,
        "plans": plans,
        "dashboard_plan": dashboard_plan,
        "target": {"p99_ms": TARGET_P99_MS, "worst_p99_ms": worst, "met": worst < TARGET_P99_MS},
    }


async def pages(pool: asyncpg.Pool, baseline: list[float], runs: int) -> list[dict[str, Any]]:
    """The dashboard's first page and the statistics (figures and breakdowns, as `GET /stats`
    reads them) of one officer's state, p50/p99 against the primary-key read."""
    name, dashboard_filter = DASHBOARD

    async def dashboard(_: int) -> None:
        page, _cursor = await list_cases(pool, dashboard_filter)
        assert page

    selection = stats_filter(OFFICER)

    async def statistics(_: int) -> None:
        groups = await figures(pool, selection)
        await breakdowns(pool, selection)
        assert groups[-1].cases > 0

    metrics: list[dict[str, Any]] = []
    for label, call, times in ((name, dashboard, len(baseline)), (STATISTICS, statistics, runs)):
        values = await timings(pool, call, times)
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"  {label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        metrics += latency_metrics(label, values, baseline)
    return metrics


async def run(quick: bool) -> dict[str, Any]:
    return await measure(100_000, 100) if quick else await measure(1_000_000, 400)
