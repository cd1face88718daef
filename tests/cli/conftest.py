"""The real API for CLI tests: built as in `tests/api/conftest.py` (a PostgreSQL schema per test,
the time-skipping Temporal server, real workers), but served by uvicorn on a free local port,
because the CLI speaks HTTP to a URL like an operator's terminal does."""

from __future__ import annotations

import asyncio
import secrets
import socket
import sys
from collections.abc import AsyncIterator

import asyncpg
import pytest
import structlog
import uvicorn
from served_api import SECRET, ServedApi
from temporalio.testing import WorkflowEnvironment
from workers_support import running_workers

from adapters.settings import Settings
from api.app import create_app

STATES = ("PL", "UA", "MD", "RO", "DE")


@pytest.fixture
async def served_api(
    time_env: WorkflowEnvironment,
    schema_dsn: str,
    pool: asyncpg.Pool,
    master_keys: dict[str, str],
) -> AsyncIterator[ServedApi]:
    # Server-side log lines go to the real stderr, not into the CLI output a test captures.
    previous = structlog.get_config()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.__stderr__))
    prefix = f"c{secrets.token_hex(4)}"
    settings = Settings(
        jwt_secret=SECRET, queue_prefix=prefix, database_url=None, master_keys=master_keys
    )
    app = create_app(settings, database_url=schema_dsn, client=time_env.client)
    workers = running_workers(time_env.client, pool, STATES, settings=settings)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    async with workers, app.router.lifespan_context(app):
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        async with asyncio.timeout(10):
            while not server.started:
                if serving.done():
                    serving.result()
                await asyncio.sleep(0.01)
        with time_env.auto_time_skipping_disabled():
            yield ServedApi(url=f"http://127.0.0.1:{port}", env=time_env)
        server.should_exit = True
        await serving
    listener.close()
    structlog.configure(**previous)
