"""Liveness, readiness (PostgreSQL and Temporal reachable) and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import PrincipalDep

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: PostgreSQL and Temporal are reachable")
async def ready(request: Request) -> JSONResponse:
    services = getattr(request.app.state, "services", None)
    checks: dict[str, Any] = {"postgresql": False, "temporal": False}
    if services is not None:
        try:
            async with asyncio.timeout(2):
                checks["postgresql"] = await services.pool.fetchval("SELECT true")
        except (OSError, TimeoutError, Exception):
            checks["postgresql"] = False
        try:
            async with asyncio.timeout(2):
                checks["temporal"] = await services.client.service_client.check_health()
        except Exception:
            checks["temporal"] = False
    ok = all(checks.values())
    headers = None if ok else {"Retry-After": "5"}
    return JSONResponse(
        {"status": "ready" if ok else "not ready", "checks": checks},
        status_code=200 if ok else 503,
        headers=headers,
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(_: PrincipalDep) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
