"""The web pages against real services: PostgreSQL (a schema per test) with the demo directory,
the time-skipping Temporal server and real workers; reached in-process over ASGI (`web_http`)
or served by uvicorn on 127.0.0.1 for a real browser (`web_server`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from browser_support import CHROMIUM, FLAGS, need_browser
from temporalio.testing import WorkflowEnvironment
from web_support import Web, free_port, running_app, serving

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


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


@pytest.fixture
async def approving_server(
    time_env: WorkflowEnvironment, schema_dsn: str, pool: asyncpg.Pool
) -> AsyncIterator[Web]:
    """The app over HTTP, on an installation whose policy is `UA:EU-UA`: Ukraine's replies
    under EU-UA await a supervisor's approval."""
    async with (
        running_app(time_env, schema_dsn, pool, reply_approval="UA:EU-UA") as app,
        serving(app, free_port()) as base_url,
    ):
        with time_env.auto_time_skipping_disabled():
            yield Web(app, pool, time_env, base_url)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (a `Browser`); the test is skipped,
    saying so loudly, without playwright or Chromium."""
    need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        try:
            yield launched
        finally:
            await launched.close()
