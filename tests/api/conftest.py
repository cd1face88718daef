"""The API against real services: PostgreSQL (a schema per test), the time-skipping Temporal
server and real workers, reached through the ASGI app with its lifespan running."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from api_harness import SECRET, Api
from temporalio.testing import WorkflowEnvironment
from workers_support import running_workers

from adapters.settings import Settings
from api.app import create_app

STATES = ("PL", "UA", "MD", "RO", "DE")


@pytest.fixture
async def api(
    time_env: WorkflowEnvironment,
    schema_dsn: str,
    pool: asyncpg.Pool,
    master_keys: dict[str, str],
) -> AsyncIterator[Api]:
    prefix = f"a{secrets.token_hex(4)}"
    settings = Settings(
        jwt_secret=SECRET,
        queue_prefix=prefix,
        database_url=None,
        master_keys=master_keys,
        # the access matrix and schemathesis write faster than any officer: limits are
        # tested on their own (tests/api/test_web_hardening.py)
        rate_limit_writes="",
        rate_limit_writes_per_principal="",
        rate_limit_sign_in="",
    )
    app = create_app(settings, database_url=schema_dsn, client=time_env.client)
    workers = running_workers(time_env.client, pool, STATES, settings=settings)
    async with workers, app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://readmit.test") as http:
            with time_env.auto_time_skipping_disabled():
                yield Api(http=http, pool=pool, env=time_env, services=app.state.services)
