"""What the fault tests of this folder share: the API with real workers, built the way the
composition roots build them (settings → `connect_client` → `worker_root` / `create_app`), on a
test's own time-skipping server and PostgreSQL schema; officers' tokens; an application body.

Kept out of conftest.py (another fault test lives in this folder) and named apart from the other
test folders' helpers, so any test here imports it by a name no one else uses.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from factories import application_body
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from workers_support import running_workers

from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings
from adapters.temporal.client import connect_client
from adapters.temporal.codec import Keyring
from adapters.tracing import Tracing
from api.app import create_app
from api.auth import issue_dev_token

SECRET = "test-secret-for-the-fault-tests-only-0123456789"
STATES = ("PL", "UA")


def application(**changes: Any) -> dict[str, Any]:
    """A valid body for POST /cases (PL asks UA to readmit one of its nationals)."""
    knowledge_at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    return application_body(**{"knowledge_at": knowledge_at, **changes})


def bearer(user: str, role: str, state: str | None, states: tuple[str, ...] = ()) -> dict[str, str]:
    token = issue_dev_token(SECRET, user=user, role=role, state=state, states=states)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


@dataclass
class RunningApi:
    """The API app over HTTP (ASGI), its workers, the pool and the Temporal client they use."""

    http: httpx.AsyncClient
    pool: asyncpg.Pool
    client: Client
    settings: Settings
    vault: PersonalDataVault

    async def post(self, path: str, who: dict[str, str], body: Any = None) -> httpx.Response:
        return await self.http.post(path, json={} if body is None else body, headers=who)

    async def received_case(self) -> str:
        """A case opened and submitted by PL, its receipt confirmed by UA: awaiting a reply."""
        anna, olena = bearer("anna.pl", "officer", "PL"), bearer("olena.ua", "officer", "UA")
        opened = await self.post("/cases", anna, application())
        assert opened.status_code == 201, opened.text
        case_id: str = opened.json()["case_id"]
        for path, who in (("/submit", anna), ("/receipt", olena)):
            answer = await self.post(f"/cases/{case_id}{path}", who)
            assert answer.status_code == 200, answer.text
        return case_id


def settings_for(env: WorkflowEnvironment, **changes: Any) -> Settings:
    """Settings as the environment would give them, pointing at `env`'s server."""
    key = base64.b64encode(os.urandom(32)).decode()
    return Settings(
        temporal_address=env.client.service_client.config.target_host,
        payload_keys={"faults-1": key},
        master_keys={"faults-master": Keyring.new_key()},
        jwt_secret=SECRET,
        queue_prefix=f"f{secrets.token_hex(4)}",
        **changes,
    )


@contextlib.asynccontextmanager
async def running_api(
    env: WorkflowEnvironment,
    schema_dsn: str,
    pool: asyncpg.Pool,
    *,
    tracing: Tracing | None = None,
    **changes: Any,
) -> AsyncIterator[RunningApi]:
    """The app (its own client from `connect_client`) and workers on a client of their own,
    both traced as `tracing` says (default: as the settings say, i.e. off)."""
    settings = settings_for(env, **changes)
    traces = tracing or Tracing()
    client = await connect_client(settings, tracing=traces)
    app = create_app(settings, database_url=schema_dsn, tracing=traces)
    workers = running_workers(client, pool, STATES, settings=settings)
    async with workers as root, app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://readmit.test", timeout=60
        ) as http:
            yield RunningApi(
                http=http, pool=pool, client=client, settings=settings, vault=root.vault
            )
