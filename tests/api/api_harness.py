"""What an API test holds: an HTTP client on the app, its services, the pool, the clock, tokens by
role.

Kept out of conftest.py so that tests import it by a name no other test folder uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx
from fastapi.routing import iter_route_contexts
from temporalio.testing import WorkflowEnvironment

from adapters.settings import Settings
from api.app import create_app
from api.auth import issue_dev_token
from api.services import Services
from api.web.session import start_session

SECRET = "test-secret-for-the-api-tests-only-0123456789"


@dataclass
class Api:
    http: httpx.AsyncClient
    pool: asyncpg.Pool
    env: WorkflowEnvironment
    services: Services

    def token(self, user: str, role: str, state: str | None, states: tuple[str, ...] = ()) -> str:
        return issue_dev_token(SECRET, user=user, role=role, state=state, states=states)  # type: ignore[arg-type]

    def as_(
        self, user: str, role: str, state: str | None, states: tuple[str, ...] = ()
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user, role, state, states)}"}

    async def session(
        self, user: str, role: str, state: str | None, states: tuple[str, ...] = ()
    ) -> str:
        """A web session's cookie value (a row in `web_sessions`), as signing in makes one."""
        principal = await self.services.verifier.verify(self.token(user, role, state, states))
        return await start_session(self.services, principal, "token")


def app_endpoints() -> set[tuple[str, str]]:
    """(method, path) of every route of the app, included routers resolved."""
    app = create_app(Settings(jwt_secret=SECRET))
    found = set()
    for route in iter_route_contexts(app.routes):
        for method in route.methods or ():
            if method != "HEAD" and route.path is not None:
                found.add((method, route.path))
    documented = app.openapi()["paths"]
    found |= {(m.upper(), p) for p, ops in documented.items() for m in ops}
    return found
