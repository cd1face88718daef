"""Rate limits on signing in and on writes, per client address and per signed-in user.

Signing in (`POST /ui/sign-in`, anything under `/ui/sign-in/` and `/auth/`: the identity
provider's start and callback) is limited per client address;
writes (POST, PUT, PATCH, DELETE elsewhere) per client address and per principal, whichever
address a principal comes from. `POST /codec/decode` is no write: it changes nothing, and the
Temporal web UI sends one for every page of a history it shows, so it would exhaust an
operator's write limit while they read. Over a limit the answer is 429 problem+json with
`Retry-After`, before any handler runs. The client address is the connection's, or the one a
trusted proxy forwarded (`READMIT_TRUSTED_PROXIES`, applied before this middleware).

A principal is known only once a handler has authenticated it (`request.state.principal`), so
its writes are counted after they ran, and its credential (the bearer token or the session
cookie, as a hash) remembered: the next write carrying that credential is refused before it
runs once the principal is over its limit. Counters live in `READMIT_RATE_LIMIT_STORAGE`
(`memory://` per process by default; see the `limits` package for shared stores).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from http.cookies import SimpleCookie
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.settings import Settings
from api.problems import problem_response
from api.web.session import SESSION_COOKIE

WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
SIGN_IN_FORM = "/ui/sign-in"  # POST only: GET is the form
SIGN_IN_PREFIXES = ("/ui/sign-in/", "/auth/")  # every method: the identity provider's paths
REMEMBERED_CREDENTIALS = 10_000
# POSTs that only read: the codec's decode, which the Temporal UI calls many times a page
READ_ONLY_POSTS = frozenset(("/codec/decode",))


class RateLimits:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.sign_in = _limits(settings.rate_limit_sign_in)
        self.writes = _limits(settings.rate_limit_writes)
        self.per_principal = _limits(settings.rate_limit_writes_per_principal)
        uri = settings.rate_limit_storage
        storage = storage_from_string(uri if uri.startswith("async+") else f"async+{uri}")
        self.limiter = MovingWindowRateLimiter(storage)
        self._principals: OrderedDict[str, str] = OrderedDict()  # credential hash -> user id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = _kind(scope) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        credential = _credential(scope) if kind == "write" else None
        user = self._principals.get(credential) if credential else None
        limits = self.sign_in if kind == "sign-in" else self.writes
        refused = await self._over(limits, ("client", client))
        if refused is None and user is not None:
            refused = await self._over(self.per_principal, ("principal", user), count=False)
        if refused is not None:
            response = problem_response(
                429,
                "Too many requests",
                f"over the limit of {refused[0]}; try again in {refused[1]} s",
                type_="rate-limited",
                headers={"Retry-After": str(refused[1])},
            )
            await response(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        await self.app(scope, receive, send)
        principal = state.get("principal")
        user = getattr(principal, "user_id", None)
        if kind == "write" and isinstance(user, str):
            if credential is not None:
                self._remember(credential, user)
            for limit in self.per_principal:
                await self.limiter.hit(limit, "principal", user)

    async def _over(
        self, limits: Sequence[RateLimitItem], key: tuple[str, str], *, count: bool = True
    ) -> tuple[str, int] | None:
        """(the limit, seconds until it frees) of the first of `limits` that `key` is over;
        None when under all of them, and then, if `count`, this request is counted."""
        for limit in limits:
            if not await self.limiter.test(limit, *key):
                stats = await self.limiter.get_window_stats(limit, *key)
                return str(limit), max(1, math.ceil(stats.reset_time - time.time()))
        if count:
            for limit in limits:
                await self.limiter.hit(limit, *key)
        return None

    def _remember(self, credential: str, user: str) -> None:
        self._principals[credential] = user
        self._principals.move_to_end(credential)
        while len(self._principals) > REMEMBERED_CREDENTIALS:
            self._principals.popitem(last=False)


def _limits(text: str) -> list[RateLimitItem]:
    return parse_many(text) if text.strip() else []


def _kind(scope: Scope) -> str | None:
    path, method = scope["path"], scope["method"]
    if path.startswith(SIGN_IN_PREFIXES) or (method == "POST" and path == SIGN_IN_FORM):
        return "sign-in"
    if method == "POST" and path.rstrip("/") in READ_ONLY_POSTS:
        return None
    return "write" if method in WRITE_METHODS else None


def _credential(scope: Scope) -> str | None:
    """A hash of the request's bearer token or session cookie, None without either."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return hashlib.sha256(value).hexdigest()
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            cookies: SimpleCookie = SimpleCookie()
            try:
                cookies.load(value.decode("latin-1"))
            except Exception:
                return None
            session = cookies.get(SESSION_COOKIE)
            if session is not None:
                return hashlib.sha256(session.value.encode()).hexdigest()
    return None
