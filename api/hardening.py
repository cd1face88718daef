"""What stands between the network and the routes: which proxies are believed, HSTS, rate
limits, the body cap and the readiness gate, installed in that order (outermost first).

- **Proxies**: uvicorn's `ProxyHeadersMiddleware`, trusting only `READMIT_TRUSTED_PROXIES`, so
  `X-Forwarded-For` and `X-Forwarded-Proto` count only from them (uvicorn's own, which trusts
  127.0.0.1, is switched off where the API is served). The scheme it sets decides the
  session cookie's `Secure` flag in development (`api.web.session.secure`); production sets it
  always.
- **HSTS**: in production every answer carries `Strict-Transport-Security`.
- **Rate limits** (`api.rate_limits`), the **body cap** (`api.limits`), and the **readiness
  gate** (`api.backends`).
- **HTTP metrics** (`api.http_metrics`), outermost, so every answer is counted and timed.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from adapters.settings import Settings
from api.backends import Backends, ReadinessGate
from api.http_metrics import HttpMetrics
from api.limits import BodySizeLimit
from api.rate_limits import RateLimits


class StrictTransportSecurity:
    """`Strict-Transport-Security: max-age=<seconds>` on every HTTP answer."""

    def __init__(self, app: ASGIApp, max_age: int) -> None:
        self.app = app
        self.value = f"max-age={max_age}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Strict-Transport-Security"] = self.value
            await send(message)

        await self.app(scope, receive, with_header)


def install(app: FastAPI, settings: Settings, backends: Backends) -> None:
    """Add the middleware to `app`, the innermost first."""
    app.add_middleware(ReadinessGate, backends=backends)
    app.add_middleware(BodySizeLimit, upload_max_bytes=settings.attachment_max_bytes)
    app.add_middleware(RateLimits, settings=settings)
    if settings.production and settings.hsts_seconds > 0:
        app.add_middleware(StrictTransportSecurity, max_age=settings.hsts_seconds)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    app.add_middleware(HttpMetrics)
