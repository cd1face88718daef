"""HTTP metrics per route: how many requests each route answered with which status, and how
long they took (`readmit_http_requests_total`, `readmit_http_request_duration_seconds`).

Routes are labelled by their template (`/cases/{case_id}`), never by the path a caller sent:
a case number in a label would be personal-data adjacent and would make one series per case.
A request no route matched (a 404 for an unknown path, a 503 before the services are built) is
labelled `unmatched`, so a scanner's guesses add no series; a method HTTP does not define is
`OTHER`, for the same reason. The middleware is the outermost one
(`api.hardening.install`), so the time includes rate limits and the readiness gate.
"""

from __future__ import annotations

import time

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters import metrics

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The template of the route that served `scope`, or `unmatched`."""
    route = scope.get("route")
    path = getattr(route, "path", None) if isinstance(route, BaseRoute) else None
    return path or UNMATCHED


class HttpMetrics:
    """Count and time every HTTP request by route template, method and status code."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the answer started is a server error

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            method = str(scope.get("method", "GET"))
            route, method = route_template(scope), method if method in METHODS else "OTHER"
            metrics.HTTP_SECONDS.labels(route, method).observe(time.perf_counter() - started)
            metrics.HTTP_REQUESTS.labels(route, method, str(status)).inc()
