"""What ends the API's waiting for good, with PostgreSQL and Temporal there: services that fail
to build keep `/ready` at 503 (not 200 from the connection flags), and in production a
DATABASE_URL with the owner's rights is refused (the API runs as the runtime role)."""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from adapters.settings import Settings
from adapters.temporal.codec import Keyring
from api.app import create_app
from api.services import Services

pytestmark = [pytest.mark.db, pytest.mark.temporal]

SECRET = "readiness-test-secret-0123456789abcdef"


def seed() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def settings_for(env: str, dsn: str, time_env: WorkflowEnvironment) -> Settings:
    values: dict[str, Any] = {"env": env, "jwt_secret": SECRET, "queue_prefix": "readiness"}
    if env == "production":
        values |= {
            "database_url": dsn,
            "temporal_address": time_env.client.service_client.config.target_host,
            "payload_keys": {"p-2027-01": Keyring.new_key()},
            "payload_key_id": "p-2027-01",
            "master_keys": {"m-2027-01": Keyring.new_key()},
            "master_key_id": "m-2027-01",
            "audit_signing_key": seed(),
            "command_signing_key": seed(),
            "search_key": seed(),
            "metrics_token": "a-scrape-secret-of-more-than-32-characters-0123",
        }
    else:
        values["master_keys"] = {"m": Keyring.new_key()}
    return Settings(_env_file=None, **values)


@contextlib.asynccontextmanager
async def started(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://readmit.test") as http:
            yield http


async def test_services_that_fail_to_build_keep_ready_at_503(
    time_env: WorkflowEnvironment, schema_dsn: str
) -> None:
    """Finding: PostgreSQL, the migrations and Temporal all there, the build failed, and
    `/ready` answered 200 from those flags while every other request was 503, for ever."""
    settings = settings_for("development", schema_dsn, time_env)
    app = create_app(settings, database_url=schema_dsn, client=time_env.client)

    def broken(pool: asyncpg.Pool, client: Client) -> Services:
        raise RuntimeError("a bug in building the services")

    app.state.backends.build = broken
    async with started(app) as http:
        ready = await http.get("/ready")
        assert ready.status_code == 503, ready.text
        body = ready.json()
        assert body["checks"] == {
            "postgres": True,
            "migrations": True,
            "temporal": True,
            "services": False,
        }
        assert "could not be built (RuntimeError)" in body["detail"]
        assert "a bug in" not in ready.text  # the type only, never the message
        gated = await http.get("/cases")
        assert gated.status_code == 503 and "could not be built" in gated.json()["detail"]


async def test_production_refuses_a_database_url_with_the_owners_rights(
    time_env: WorkflowEnvironment, schema_dsn: str
) -> None:
    """Finding: production's API migrated as the owner when DATABASE_URL was the owner's,
    defeating least privilege; the tests' DSN is a superuser's."""
    settings = settings_for("production", schema_dsn, time_env)
    app = create_app(settings, database_url=schema_dsn, client=time_env.client)
    async with started(app) as http:
        ready = await http.get("/ready")
        assert ready.status_code == 503, ready.text
        detail = ready.json()["detail"]
        assert "is a superuser" in detail and "READMIT_MIGRATION_DATABASE_URL" in detail
        assert "readmit db migrate" in detail
        assert ready.json()["checks"]["services"] is False
        gated = await http.get("/cases")
        assert gated.status_code == 503 and "READMIT_MIGRATION_DATABASE_URL" in gated.text


async def test_production_serves_as_the_runtime_role(
    time_env: WorkflowEnvironment, runtime_dsn: str
) -> None:
    settings = settings_for("production", runtime_dsn, time_env)
    app = create_app(settings, database_url=runtime_dsn, client=time_env.client)
    async with started(app) as http:
        ready = await http.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["services"] is True


async def test_development_still_migrates_as_the_owner_at_start(
    time_env: WorkflowEnvironment, schema_dsn: str
) -> None:
    settings = settings_for("development", schema_dsn, time_env)
    app = create_app(settings, database_url=schema_dsn, client=time_env.client)
    async with started(app) as http:
        assert (await http.get("/ready")).status_code == 200
