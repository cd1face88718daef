"""The web pages against real services: PostgreSQL (a schema per test) with the demo directory,
the time-skipping Temporal server and real workers; reached in-process over ASGI (`web_http`)
or served by uvicorn on 127.0.0.1 for a real browser (`web_server`)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment
from web_support import SECRET, Web
from workers_support import running_workers

from adapters.directory import import_directory, load_directory
from adapters.settings import Settings
from adapters.temporal.codec import Keyring
from api.app import create_app

STATES = ("PL", "UA", "MD", "RO", "DE")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


async def import_demo_officers(pool: asyncpg.Pool) -> None:
    officers = load_directory(Path(str(files("readmit.demo") / "officers.toml")))
    async with pool.acquire() as conn:
        await import_directory(conn, officers)


@contextlib.asynccontextmanager
async def running_app(
    env: WorkflowEnvironment, dsn: str, pool: asyncpg.Pool, **overrides: Any
) -> AsyncIterator[FastAPI]:
    """The app (lifespan not started) and its workers, on a random queue prefix; `overrides`
    are settings (e.g. `env="production"` and the OpenID provider's)."""
    await import_demo_officers(pool)
    prefix = f"w{secrets.token_hex(4)}"
    master_keys = {"master-1": Keyring.new_key()}
    settings = Settings(
        jwt_secret=SECRET,
        queue_prefix=prefix,
        database_url=None,
        master_keys=master_keys,
        audit_signing_key=base64.b64encode(os.urandom(32)).decode(),
        **overrides,
    )
    app = create_app(settings, database_url=dsn, client=env.client)
    async with running_workers(env.client, pool, STATES, settings=settings):
        yield app


@pytest.fixture
async def web_http(
    time_env: WorkflowEnvironment, schema_dsn: str, pool: asyncpg.Pool
) -> AsyncIterator[Web]:
    """The app in-process: an httpx client over ASGI (no redirects followed)."""
    base = "http://readmit.test"
    async with (
        running_app(time_env, schema_dsn, pool) as app,
        app.router.lifespan_context(app),
    ):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as http:
            with time_env.auto_time_skipping_disabled():
                yield Web(app, pool, time_env, base, http)


class _Server(uvicorn.Server):
    """uvicorn in the test's event loop, leaving the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[str]:
    """The app served over HTTP on 127.0.0.1:`port` by uvicorn (in this loop, beside the
    workers: they share the session's Temporal client and PostgreSQL pool); its base URL."""
    server = _Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            # a browser left open by a failed test keeps its live-update stream: do not wait
            # for it for ever
            timeout_graceful_shutdown=5,
        )
    )
    serving = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started or serving.done():
            break
        await asyncio.sleep(0.05)
    if not server.started:
        serving.cancel()
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@pytest.fixture
async def web_server(
    time_env: WorkflowEnvironment, schema_dsn: str, pool: asyncpg.Pool
) -> AsyncIterator[Web]:
    """The app served over HTTP on 127.0.0.1 by uvicorn."""
    async with (
        running_app(time_env, schema_dsn, pool) as app,
        serving(app, free_port()) as base_url,
    ):
        with time_env.auto_time_skipping_disabled():
            yield Web(app, pool, time_env, base_url)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
