"""Prometheus reads `GET /metrics` with the scrape secret, no user token (issue 18): the secret
alone opens it, compared as a whole; a user's token does not once a secret is configured;
production refuses to start without a strong one; the path stays open while the API waits for
PostgreSQL and Temporal. HTTP answers are counted per route template, method and status, and
timed (api.http_metrics), never labelled with the path a caller sent."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from api_harness import SECRET
from fastapi import FastAPI
from prometheus_client import REGISTRY

from adapters.production import API, problems
from adapters.settings import Settings
from adapters.temporal.codec import Keyring
from api.app import create_app
from api.auth import issue_dev_token
from api.http_metrics import UNMATCHED, HttpMetrics

TOKEN = "a-scrape-secret-of-more-than-32-characters-0123"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def app_with(metrics_token: str | None) -> FastAPI:
    """The app as built, its services not started (PostgreSQL and Temporal not reached)."""
    settings = Settings(
        _env_file=None,
        jwt_secret=SECRET,
        master_keys={"m": Keyring.new_key()},
        metrics_token=metrics_token,
    )
    return create_app(settings, database_url="postgresql://nobody@127.0.0.1:1/none")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_with(TOKEN))
    async with httpx.AsyncClient(transport=transport, base_url="http://readmit.test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_scrape_secret_reads_the_metrics_without_services(
    http: httpx.AsyncClient,
) -> None:
    answer = await http.get("/metrics", headers=bearer(TOKEN))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    assert "readmit_http_request_duration_seconds" in answer.text


async def test_anything_but_the_secret_is_refused(http: httpx.AsyncClient) -> None:
    officer = issue_dev_token(SECRET, user="officer-pl", role="officer", state="PL")
    for headers in ({}, bearer(TOKEN[:-1]), bearer(TOKEN + "x"), bearer(officer)):
        answer = await http.get("/metrics", headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    basic = await http.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401


async def test_without_a_secret_a_signed_in_caller_is_needed() -> None:
    """Development without a scrape secret: as before, a user's token (services checked it),
    so before the services exist the route says it is not ready rather than open up."""
    transport = httpx.ASGITransport(app=app_with(None))
    async with httpx.AsyncClient(transport=transport, base_url="http://readmit.test") as client:
        answer = await client.get("/metrics", headers=bearer(TOKEN))
    assert answer.status_code == 503, answer.text


def test_production_needs_a_strong_scrape_secret() -> None:
    settings = Settings(_env_file=None, env="production")
    assert "READMIT_METRICS_TOKEN (unset)" in problems(settings, API)
    short = Settings(_env_file=None, env="production", metrics_token="short")
    assert any("READMIT_METRICS_TOKEN (shorter" in p for p in problems(short, API))
    repeated = Settings(_env_file=None, env="production", metrics_token="a" * 40)
    assert any("READMIT_METRICS_TOKEN (fewer" in p for p in problems(repeated, API))
    strong = Settings(_env_file=None, env="production", metrics_token=TOKEN)
    assert not [p for p in problems(strong, API) if "METRICS" in p]


async def test_the_app_counts_and_times_its_answers(http: httpx.AsyncClient) -> None:
    before = sample("readmit_http_requests_total", route="/health", method="GET", status="200")
    timed = sample("readmit_http_request_duration_seconds_count", route="/health", method="GET")
    assert (await http.get("/health")).status_code == 200
    assert sample("readmit_http_requests_total", route="/health", method="GET", status="200") == (
        before + 1
    )
    assert sample("readmit_http_request_duration_seconds_count", route="/health", method="GET") == (
        timed + 1
    )


async def test_routes_are_labelled_by_template_never_by_the_path_sent() -> None:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_middleware(HttpMetrics)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    labels = {"method": "GET"}
    before = {
        key: sample("readmit_http_requests_total", route=route, status=status, **labels)
        for key, (route, status) in {
            "thing": ("/things/{thing_id}", "200"),
            "unknown": (UNMATCHED, "404"),
            "broken": ("/broken", "500"),
        }.items()
    }
    async with httpx.AsyncClient(transport=transport, base_url="http://t.test") as client:
        assert (await client.get("/things/PL-UA-2027-000001")).status_code == 200
        assert (await client.get("/no/such/PL-UA-2027-000001")).status_code == 404
        assert (await client.get("/broken")).status_code == 500
        other = sample("readmit_http_requests_total", route=UNMATCHED, method="OTHER", status="404")
        assert (await client.request("BREW", "/coffee")).status_code == 404
        assert sample(
            "readmit_http_requests_total", route=UNMATCHED, method="OTHER", status="404"
        ) == (other + 1)
    assert sample(
        "readmit_http_requests_total", route="/things/{thing_id}", status="200", **labels
    ) == (before["thing"] + 1)
    assert sample("readmit_http_requests_total", route=UNMATCHED, status="404", **labels) == (
        before["unknown"] + 1
    )
    assert sample("readmit_http_requests_total", route="/broken", status="500", **labels) == (
        before["broken"] + 1
    )
    exposed = (await _exposition()).decode()
    assert "PL-UA-2027-000001" not in exposed


async def _exposition() -> bytes:
    from prometheus_client import generate_latest

    return generate_latest()
