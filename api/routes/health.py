"""Liveness, readiness (PostgreSQL, the migrations and Temporal) and Prometheus metrics.

`/health` answers as long as the process serves HTTP, whatever it is connected to; `/ready`
answers 200 once PostgreSQL and Temporal answer, the migrations are applied and the app's
services are built, else 503 problem+json naming what is missing (`postgres`, `migrations`,
`temporal`, `services`), with Retry-After, and why the API refuses to serve when it does (a
services build that failed; in production, a DATABASE_URL with the owner's rights). `/metrics`
answers Prometheus with the scrape secret (`api.metrics_scrape`), no user token needed.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.backends import Backends, Readiness, checks_of, missing_parts
from api.metrics_scrape import ScraperDep
from api.problems import RETRY_AFTER_SECONDS, problem_response
from api.services import Services

router = APIRouter(tags=["operations"])
CHECK_SECONDS = 2.0


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: PostgreSQL and Temporal answer, the migrations are applied",
    responses={503: {"description": "not ready: `detail` and `checks` name what is missing"}},
)
async def ready(request: Request) -> JSONResponse:
    backends: Backends = request.app.state.backends
    services = backends.services
    readiness = backends.readiness
    built = services is not None
    if services is not None:
        readiness = await live(services, migrated=readiness.migrations)
    checks = checks_of(readiness, built=built)
    missing = missing_parts(readiness, built=built)
    if not missing:
        return JSONResponse({"status": "ready", "checks": checks})
    return problem_response(
        503,
        "Not ready",
        f"refused: {backends.readiness.refused}"
        if backends.readiness.refused
        else f"missing: {', '.join(missing)}",
        type_="not-ready",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        checks=checks,
        missing=missing,
    )


async def live(services: Services, *, migrated: bool) -> Readiness:
    """Ask PostgreSQL and Temporal now, each within `CHECK_SECONDS`."""
    found = Readiness(migrations=migrated)
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            found.postgres = bool(await services.pool.fetchval("SELECT true"))
    except Exception:
        found.postgres = False
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            found.temporal = await services.client.service_client.check_health()
    except Exception:
        found.temporal = False
    return found


@router.get(
    "/metrics",
    summary="Prometheus metrics (the scrape secret, or a signed-in caller in development)",
    response_class=Response,
    responses={
        401: {"description": "no bearer token, or not the scrape secret"},
        503: {"description": "no scrape secret configured and the API not ready yet"},
    },
)
async def metrics(_: ScraperDep) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
