"""The web's hardening (issue 15, finding 7), against the app with PostgreSQL and Temporal:
`Secure` cookies in production whatever the scheme, forwarded headers believed only from
trusted proxies, HSTS in production, `/docs` self-hosted and off in production, the app's own
rate limits on signing in and on writes (per client and per principal), and readiness."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from adapters.settings import Settings
from adapters.temporal.codec import Keyring
from api.app import create_app
from api.auth import CODEC_SCOPE, issue_dev_token

pytestmark = [pytest.mark.db, pytest.mark.temporal]

SECRET = "hardening-test-secret-0123456789abcdef"
ASSETS = Path(__file__).resolve().parents[2] / "api" / "web" / "static" / "swagger-ui"
PROXY = ("10.1.2.3", 4000)  # where the trusted reverse proxy connects from
BROWSER = ("203.0.113.7", 5000)


def seed() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def settings_for(env: str, dsn: str, time_env: WorkflowEnvironment, **changes: Any) -> Settings:
    production = {
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
    base: dict[str, Any] = {"env": env, "jwt_secret": SECRET, "queue_prefix": "hardening"}
    if env == "production":
        base |= production
    else:
        base["master_keys"] = {"m": Keyring.new_key()}
    return Settings(_env_file=None, **(base | changes))


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, dsn: str, time_env: WorkflowEnvironment
) -> AsyncIterator[FastAPI]:
    app = create_app(settings, database_url=dsn, client=time_env.client)
    async with app.router.lifespan_context(app):
        yield app


def client(app: FastAPI, address: tuple[str, int] = BROWSER) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=address)
    return httpx.AsyncClient(transport=transport, base_url="http://readmit.test")


def bearer(user: str = "anna.pl", state: str = "PL") -> dict[str, str]:
    token = issue_dev_token(SECRET, user=user, role="officer", state=state)
    return {"Authorization": f"Bearer {token}"}


def language_cookie(answer: httpx.Response) -> str:
    """The Set-Cookie line of the language switch (the pages' `set_cookie`, as every cookie)."""
    (line,) = [c for c in answer.headers.get_list("set-cookie") if c.startswith("readmit_lang=")]
    return line


def is_secure(cookie_line: str) -> bool:
    return any(part.strip().lower() == "secure" for part in cookie_line.split(";"))


# --- cookies, proxies, HSTS ----------------------------------------------------------------


async def test_production_cookies_are_secure_even_over_plain_http(
    time_env: WorkflowEnvironment, runtime_dsn: str
) -> None:
    """Behind a TLS-terminating proxy the app sees http: the cookie must be Secure anyway."""
    settings = settings_for("production", runtime_dsn, time_env)
    async with serving(settings, runtime_dsn, time_env) as app, client(app) as http:
        answer = await http.get("/ui/language", params={"lang": "uk", "next": "/ui/"})
        assert answer.status_code == 303
        assert is_secure(language_cookie(answer))
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
        health = await http.get("/health")
        assert health.headers["strict-transport-security"] == "max-age=31536000"


async def test_development_believes_the_forwarded_scheme_only_from_a_trusted_proxy(
    time_env: WorkflowEnvironment, schema_dsn: str
) -> None:
    settings = settings_for("development", schema_dsn, time_env, trusted_proxies=[PROXY[0]])
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": BROWSER[0]}
    params = {"lang": "uk", "next": "/ui/"}
    async with serving(settings, schema_dsn, time_env) as app:
        async with client(app, PROXY) as via_proxy:
            trusted = await via_proxy.get("/ui/language", params=params, headers=forwarded)
            plain = await via_proxy.get("/ui/language", params=params)
        async with client(app, BROWSER) as direct:
            spoofed = await direct.get("/ui/language", params=params, headers=forwarded)
            assert "strict-transport-security" not in spoofed.headers  # development
    assert is_secure(language_cookie(trusted))
    assert not is_secure(language_cookie(plain))
    assert not is_secure(language_cookie(spoofed)), "X-Forwarded-Proto from anyone was believed"


# --- /docs ---------------------------------------------------------------------------------


async def test_docs_are_self_hosted_in_development(
    time_env: WorkflowEnvironment, schema_dsn: str
) -> None:
    settings = settings_for("development", schema_dsn, time_env)
    async with serving(settings, schema_dsn, time_env) as app, client(app) as http:
        page = await http.get("/docs")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        local = [s for s in sources if s != "data:,"]  # the empty favicon
        assert local and all(s.startswith("/docs/assets/") for s in local), sources
        assert "//" not in page.text.replace("<!doctype html>", "")  # no other origin at all
        policy = page.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-eval" not in policy
        readme = (ASSETS / "README.md").read_text()
        for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
            asset = await http.get(f"/docs/assets/{name}")
            assert asset.status_code == 200
            assert f"{hashlib.sha256(asset.content).hexdigest()}  {name}" in readme
        assert (await http.get("/docs/assets/init.js")).status_code == 200
        assert (await http.get("/docs/assets/LICENSE")).status_code == 404
        assert (await http.get("/docs/assets/..%2Fapp.css")).status_code == 404
        assert (await http.get("/openapi.json")).status_code == 200
        assert (await http.get("/redoc")).status_code == 404  # no CDN-only viewer


@pytest.mark.parametrize(("docs", "status"), [(None, 404), (True, 200)])
async def test_production_serves_docs_only_when_enabled(
    time_env: WorkflowEnvironment, schema_dsn: str, docs: bool | None, status: int
) -> None:
    settings = settings_for("production", schema_dsn, time_env, api_docs=docs)
    async with serving(settings, schema_dsn, time_env) as app, client(app) as http:
        assert (await http.get("/docs")).status_code == status
        assert (await http.get("/openapi.json")).status_code == status


# --- rate limits ---------------------------------------------------------------------------


def assert_limited(answer: httpx.Response) -> None:
    assert answer.status_code == 429, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 429 and answer.json()["title"] == "Too many requests"
    assert 0 < int(answer.headers["retry-after"]) <= 60


async def test_sign_in_is_limited_per_client(
    time_env: WorkflowEnvironment, schema_dsn: str
) -> None:
    settings = settings_for("development", schema_dsn, time_env, rate_limit_sign_in="3/minute")
    form = {"csrf": "x", "user": "anna.pl"}
    async with serving(settings, schema_dsn, time_env) as app:
        async with client(app, BROWSER) as http:
            assert (await http.post("/ui/sign-in", data=form)).status_code != 429
            # the identity provider's start and return count as signing in too
            assert (await http.get("/ui/sign-in/oidc/callback")).status_code != 429
            assert (await http.get("/auth/callback")).status_code != 429
            assert_limited(await http.post("/ui/sign-in", data=form))
            assert_limited(await http.get("/ui/sign-in/oidc", params={"next": "/ui/"}))
            assert_limited(await http.get("/auth/callback", params={"code": "x"}))
            assert (await http.get("/ui/sign-in")).status_code == 200  # the form itself is not
        async with client(app, ("198.51.100.1", 1)) as elsewhere:
            assert (await elsewhere.post("/ui/sign-in", data=form)).status_code != 429


async def test_writes_are_limited_per_client(
    time_env: WorkflowEnvironment, schema_dsn: str
) -> None:
    settings = settings_for(
        "development",
        schema_dsn,
        time_env,
        rate_limit_writes="3/minute",
        rate_limit_writes_per_principal="",
    )
    names = {"a": "Олександр Шевченко", "b": "O. Shevchenko"}
    async with serving(settings, schema_dsn, time_env) as app, client(app) as http:
        for user in ("anna.pl", "piotr.pl", "olena.ua"):
            answer = await http.post("/identity/match", json=names, headers=bearer(user))
            assert answer.status_code == 200, answer.text
        assert_limited(await http.post("/identity/match", json=names, headers=bearer("ion.md")))
        assert_limited(await http.post("/identity/match", json=names))  # anonymous too
        assert (await http.get("/agreements", headers=bearer())).status_code == 200  # reads


async def test_writes_are_limited_per_principal_from_any_address(
    time_env: WorkflowEnvironment, schema_dsn: str
) -> None:
    settings = settings_for(
        "development",
        schema_dsn,
        time_env,
        rate_limit_writes="",
        rate_limit_writes_per_principal="2/minute",
    )
    names = {"a": "Anna", "b": "Ana"}
    anna = bearer("anna.pl")
    async with serving(settings, schema_dsn, time_env) as app:
        async with client(app, ("198.51.100.1", 1)) as first:
            for _ in range(2):
                answer = await first.post("/identity/match", json=names, headers=anna)
                assert answer.status_code == 200
        async with client(app, ("198.51.100.2", 1)) as second:
            assert_limited(await second.post("/identity/match", json=names, headers=anna))
            other = await second.post("/identity/match", json=names, headers=bearer("olena.ua"))
            assert other.status_code == 200, "one user's limit held back another"


async def test_the_temporal_ui_s_decodes_are_not_writes(
    time_env: WorkflowEnvironment, schema_dsn: str
) -> None:
    """The web UI decodes every page of a history with a POST: an operator reading histories
    is not held back by the write limits, and decoding spends none of the writes."""
    settings = settings_for(
        "development",
        schema_dsn,
        time_env,
        rate_limit_writes="2/minute",
        rate_limit_writes_per_principal="2/minute",
    )
    token = issue_dev_token(SECRET, user="ops.pl", role="admin", state="PL", scopes=(CODEC_SCOPE,))
    operator = {"Authorization": f"Bearer {token}"}
    names = {"a": "Anna", "b": "Ana"}
    async with serving(settings, schema_dsn, time_env) as app, client(app) as http:
        for _ in range(6):
            answer = await http.post("/codec/decode", json={"payloads": []}, headers=operator)
            assert answer.status_code == 200, answer.text
        for _ in range(2):  # the writes' limit is untouched
            answer = await http.post("/identity/match", json=names, headers=bearer())
            assert answer.status_code == 200, answer.text
        assert_limited(await http.post("/identity/match", json=names, headers=bearer()))


# --- readiness -----------------------------------------------------------------------------


async def test_ready_names_every_check_when_all_is_there(
    time_env: WorkflowEnvironment, schema_dsn: str
) -> None:
    settings = settings_for("development", schema_dsn, time_env)
    async with serving(settings, schema_dsn, time_env) as app, client(app) as http:
        ready = await http.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "checks": {"postgres": True, "migrations": True, "temporal": True, "services": True},
    }


async def test_without_postgres_the_api_lives_and_says_what_it_misses(
    time_env: WorkflowEnvironment, schema_dsn: str
) -> None:
    nowhere = "postgresql://readmit@127.0.0.1:1/readmit"
    settings = settings_for("development", schema_dsn, time_env)
    async with serving(settings, nowhere, time_env) as app, client(app) as http:
        assert (await http.get("/health")).status_code == 200
        ready = await http.get("/ready")
        assert ready.status_code == 503
        assert ready.headers["content-type"].startswith("application/problem+json")
        assert ready.json()["missing"] == ["postgres", "migrations", "services"]
        assert ready.json()["checks"]["temporal"] is True
        for path in ("/cases", "/ui/"):
            answer = await http.get(path, headers=bearer())
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert int(answer.headers["retry-after"]) > 0
        assert (await http.get("/ui/static/app.css")).status_code == 200
