"""Who may read `GET /metrics`: Prometheus, with the scrape secret, and no user token.

With `READMIT_METRICS_TOKEN` set (production requires it: `adapters.production`), the route
answers exactly `Authorization: Bearer <that secret>`, compared in constant time; any other
bearer, a user's token included, is 401: the secret is the scraper's, not a role's, and
Prometheus holds no user. Without it (development, `readmit run`), any signed-in caller reads
the metrics as before (503 until the services that check tokens are built). The readiness gate
lets `/metrics` through (`api.backends.OPEN_PATHS`): the API's counters are worth reading while
PostgreSQL or Temporal are away. The metrics are process-wide counts labelled by status, agreement,
limit, route and peer, never by person or case (tests/api/test_draft_disclosure.py).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from api.auth import AuthError
from api.deps import bearer, principal
from api.problems import Problem


async def scraper(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """ "scraper" for the scrape secret; a caller's user id where no secret is configured."""
    secret = request.app.state.settings.metrics_token
    if secret is None or not secret.get_secret_value():
        if getattr(request.app.state, "services", None) is None:  # tokens are checked by them
            raise Problem(
                503,
                "Service unavailable",
                "the API is not ready yet, and no scrape secret is configured",
                type_="not-ready",
            )
        caller = await principal(request, credentials)
        return caller.user_id
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("the scrape secret is required")
    if not hmac.compare_digest(
        credentials.credentials.encode(), secret.get_secret_value().encode()
    ):
        raise AuthError("not the scrape secret")
    return "scraper"


ScraperDep = Annotated[str, Depends(scraper)]
