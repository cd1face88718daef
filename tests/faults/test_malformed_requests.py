"""1,000 malformed requests against every JSON route that takes a body or parameters: each one
answers 4xx with a problem document, never 5xx, and the database is byte-for-byte what it was.

The requests come from a seeded generator (reproducible, bounded; not hypothesis): broken JSON,
wrong types, bodies over the cap, bytes that are not UTF-8, injection strings, wrong content
types, overlong headers, bad tokens, bad path ids and query values. Each carries at least one
defect that must refuse it, so a well-formed request never slips in and changes the database
legitimately; the digest covers every table and sequence of the test's schema.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
import httpx
import pytest
from fault_support import RunningApi, bearer, running_api
from malformed import Context, Malformed, post_bodies
from malformed_access import COUNT, DEFECTS, generate
from structlog.testing import capture_logs
from temporalio.testing import WorkflowEnvironment

pytestmark = pytest.mark.temporal

# --- the database before and after --------------------------------------------------------------


async def digest(pool: asyncpg.Pool) -> dict[str, str]:
    """Every table's rows (as text, sorted) and every sequence's position, hashed."""
    async with pool.acquire() as conn:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        sequences = await conn.fetch(
            "SELECT sequence_name FROM information_schema.sequences"
            " WHERE sequence_schema = current_schema()"
        )
        found = {}
        for row in tables:
            name = row["table_name"]
            found[name] = await conn.fetchval(
                f"SELECT count(*) || ':' || md5(coalesce("
                f"string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{name}\" t"
            )
        for row in sequences:
            name = row["sequence_name"]
            found[f"seq:{name}"] = str(await conn.fetchval(f'SELECT last_value FROM "{name}"'))
    return found


async def settled(pool: asyncpg.Pool) -> dict[str, str]:
    """The digest once background work (verification, notices, projection) has stopped."""
    previous = await digest(pool)
    for _ in range(50):
        await asyncio.sleep(0.2)
        current = await digest(pool)
        if current == previous:
            return current
        previous = current
    raise AssertionError("the database kept changing")


def refusal(answer: httpx.Response) -> str | None:
    """Why the answer is not a 4xx problem document, or None when it is one."""
    if not 400 <= answer.status_code < 500:
        return f"status {answer.status_code}"
    if not answer.headers.get("content-type", "").startswith("application/problem+json"):
        return f"content-type {answer.headers.get('content-type')}"
    body = answer.json()
    if body.get("status") != answer.status_code or not body.get("title"):
        return f"problem body {body}"
    return None


async def send(api: RunningApi, request: Malformed) -> httpx.Response:
    response: httpx.Response = await api.http.request(
        request.method,
        request.path,
        headers=[
            (name.encode(), value if isinstance(value, bytes) else value.encode("latin-1"))
            for name, value in request.headers.items()
        ],
        content=request.content,
        params=tuple(request.params) if request.params else None,
    )
    return response


async def test_a_thousand_malformed_requests_get_4xx_and_change_nothing(
    time_env: WorkflowEnvironment, schema_dsn: str, pool: asyncpg.Pool
) -> None:
    async with running_api(time_env, schema_dsn, pool) as api:
        case_id = await api.received_case()
        ctx = Context(
            case_id=case_id,
            requested=bearer("olena.ua", "officer", "UA"),
            requesting=bearer("anna.pl", "officer", "PL"),
            auditor=bearer("audit.all", "auditor", None, ("*",)),
            posts=post_bodies(),
        )
        requests = generate(ctx)
        before = await settled(pool)
        failures: list[str] = []
        statuses: Counter[tuple[str, int]] = Counter()
        with capture_logs():  # an unexpected error would be logged with its locals: slow
            for request in requests:
                try:
                    answer = await send(api, request)
                except Exception as error:  # the app raised: it would have answered 500
                    failures.append(f"{request.kind} {request.method} {request.route}: {error!r}")
                    continue
                statuses[request.kind, answer.status_code] += 1
                why = refusal(answer)
                if why:
                    where = f"{request.kind} {request.method} {request.path[:80]}"
                    failures.append(f"{where}: {why} {answer.text[:200]}")
        after = await settled(pool)
        changed = {
            t: (before.get(t), after.get(t))
            for t in before.keys() | after.keys()
            if before.get(t) != after.get(t)
        }

        # The digest sees a legitimate read of personal data (a disclosure-log row).
        seen = await api.http.get(f"/cases/{case_id}", headers=ctx.requested)
        assert seen.status_code == 200
        assert (await digest(pool))["disclosure_log"] != after["disclosure_log"]

    kinds = Counter(r.kind for r in requests)
    routes = {r.route for r in requests}
    seen_statuses = {status for _, status in statuses}
    assert {400, 401, 403, 404, 413, 422} <= seen_statuses, statuses  # every refusal path
    assert not failures, f"{len(failures)} answers were not 4xx problem+json:\n" + "\n".join(
        failures[:25]
    )
    assert not changed, changed
    assert len(requests) == COUNT and len(kinds) == len(DEFECTS)
    assert set(ctx.posts) <= routes
    assert {
        "/cases",
        "/cases/{id}/state",
        "/agreements/{id}/deadlines",
        "/inbox",
        "/audit/disclosures",
    } <= routes
