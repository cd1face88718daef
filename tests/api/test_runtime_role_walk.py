"""The whole system logged in as the runtime role: the API (its lifespan checking the schema
instead of migrating it, its projector), the workers (commits with their notices, identity
checks, data keys) and the inbox, with real PostgreSQL, Temporal and workers. The role may not
rewrite history (tests/db/test_runtime_role.py); this shows it lacks nothing the app needs."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from api_harness import SECRET, Api
from runtime_support import RUNTIME_ROLE
from temporalio.testing import WorkflowEnvironment
from test_case_walk import test_case_from_opening_to_closing as case_walk
from workers_support import running_workers

from adapters.settings import Settings
from api.app import create_app

pytestmark = pytest.mark.temporal

STATES = ("PL", "UA", "MD", "RO", "DE")


@pytest.fixture
async def runtime_api(
    time_env: WorkflowEnvironment,
    runtime_dsn: str,
    runtime_pool: asyncpg.Pool,
    master_keys: dict[str, str],
) -> AsyncIterator[Api]:
    """The `api` fixture of conftest.py, every connection logged in as the runtime role."""
    settings = Settings(
        jwt_secret=SECRET,
        queue_prefix=f"r{secrets.token_hex(4)}",
        database_url=None,
        master_keys=master_keys,
    )
    app = create_app(settings, database_url=runtime_dsn, client=time_env.client)
    workers = running_workers(time_env.client, runtime_pool, STATES, settings=settings)
    async with workers, app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://readmit.test") as http:
            with time_env.auto_time_skipping_disabled():
                yield Api(http=http, pool=runtime_pool, env=time_env, services=app.state.services)


async def test_a_case_walks_from_opening_to_closing_as_the_runtime_role(
    runtime_api: Api, pool: asyncpg.Pool
) -> None:
    for connections in (runtime_api.services.pool, runtime_api.pool):
        assert await connections.fetchval("SELECT current_user") == RUNTIME_ROLE.name
    await case_walk(runtime_api)

    olena = runtime_api.as_("olena.ua", "officer", "UA")
    inbox = (await runtime_api.http.get("/inbox", headers=olena)).json()["items"]
    assert inbox, "the commit wrote no notice as the runtime role"
    read = await runtime_api.http.post(f"/inbox/{inbox[0]['id']}/read", headers=olena)
    assert read.status_code == 200 and not read.json()["unread"], read.text
    # everything it wrote, seen by the owner: a whole, intact history and its disclosures
    case_id = inbox[0]["case_id"]
    assert await pool.fetchval("SELECT count(*) FROM cases WHERE case_id = $1", case_id) == 1
    assert (
        await pool.fetchval("SELECT count(*) FROM disclosure_log WHERE case_id = $1", case_id) > 0
    )
    assert await pool.fetchval("SELECT count(*) FROM case_keys WHERE case_id = $1", case_id) == 1
