"""What the web tests share besides fixtures (imported by name: `conftest` is ambiguous when the
whole suite runs, since every test folder has one): the app with its workers, and uvicorn
serving it on 127.0.0.1 for a real browser."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment
from workers_support import running_workers

from adapters.directory import import_directory, load_directory
from adapters.settings import Settings
from adapters.temporal.codec import Keyring
from api.app import create_app

SECRET = "test-secret-for-the-web-tests-only-0123456789"


@dataclass
class Web:
    app: FastAPI
    pool: asyncpg.Pool
    env: WorkflowEnvironment
    base_url: str
    http: httpx.AsyncClient | None = None
    problems: list[str] = field(default_factory=list)  # errors the browser reported


STATES = ("PL", "UA", "MD", "RO", "DE")


async def import_demo_officers(pool: asyncpg.Pool) -> None:
    officers = load_directory(Path(str(files("readmit.demo") / "officers.toml")))
    async with pool.acquire() as conn:
        # the demo officers have no webhook URL: nothing is wrapped with this key
        master = Keyring.from_encoded({"test": Keyring.new_key()}, "test", what="master")
        await import_directory(conn, officers, master=master)


@contextlib.asynccontextmanager
async def running_app(
    temporal: WorkflowEnvironment, dsn: str, pool: asyncpg.Pool, **overrides: Any
) -> AsyncIterator[FastAPI]:
    """The app (lifespan not started) and its workers, on a random queue prefix; `overrides`
    are settings (e.g. `env="production"` and the OpenID provider's)."""
    await import_demo_officers(pool)
    prefix = f"w{secrets.token_hex(4)}"
    master_keys = {"master-1": Keyring.new_key()}
    if overrides.get("env") == "production":  # every secret production's check asks for
        overrides = {
            "database_url": dsn,
            "temporal_address": "temporal.test:7233",  # the test's client is used instead
            "payload_keys": {"payload-test": Keyring.new_key()},
            "payload_key_id": "payload-test",
            "master_key_id": "master-1",
            "command_signing_key": base64.b64encode(os.urandom(32)).decode(),
            "search_key": base64.b64encode(os.urandom(32)).decode(),
            "metrics_token": "a-scrape-secret-of-more-than-32-characters-0123",
        } | overrides
    settings = Settings(
        jwt_secret=SECRET,
        queue_prefix=prefix,
        master_keys=master_keys,
        audit_signing_key=base64.b64encode(os.urandom(32)).decode(),
        **({"database_url": None} | overrides),
    )
    app = create_app(settings, database_url=dsn, client=temporal.client)
    async with running_workers(temporal.client, pool, STATES, settings=settings):
        yield app


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
