"""A request for information carries the limit its case's terms set (`[messages]
information_answer_days` of an agreement or protocol file): no shipped file sets one, so an
installation's own protocol file does here, and the API shows the instant the answer is due and
lists the value among those research has not confirmed."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from api_harness import SECRET, Api
from factories import application_body
from temporalio.testing import WorkflowEnvironment
from workers_support import running_workers

import adapters.agreements
from adapters.settings import Settings
from api.app import create_app

pytestmark = pytest.mark.temporal

STATES = ("PL", "UA", "MD", "RO", "DE")  # the workers of tests/api/conftest.py
SHIPPED = Path(adapters.agreements.__file__).parent / "protocols" / "eu-ua.pl.toml"
LIMIT = '\n[messages]\ninformation_answer_days = 10\nsource = "test: an installation\'s protocol"\n'


@pytest.fixture
async def api_with_limit(
    time_env: WorkflowEnvironment,
    schema_dsn: str,
    pool: asyncpg.Pool,
    master_keys: dict[str, str],
    tmp_path: Path,
) -> AsyncIterator[Api]:
    (tmp_path / "eu-ua.pl.toml").write_text(SHIPPED.read_text(encoding="utf-8") + LIMIT)
    settings = Settings(
        jwt_secret=SECRET,
        queue_prefix=f"a{secrets.token_hex(4)}",
        database_url=None,
        master_keys=master_keys,
        agreements_dir=tmp_path,
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


async def test_a_request_for_information_shows_when_its_answer_is_due(
    api_with_limit: Api,
) -> None:
    api = api_with_limit
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    body = application_body(knowledge_at=knowledge, protocol="PL")
    opened = await api.http.post("/cases", json=body, headers=anna)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    assert (await api.http.post(f"/cases/{case_id}/submit", json={}, headers=anna)).is_success
    view = (await api.http.get(f"/cases/{case_id}", headers=anna)).json()
    unverified = {v["key"] for v in view["agreement"]["unverified_values"]}
    assert "messages" in unverified  # set by a file, not confirmed by research

    for kind in ("request_information", "request_interview"):
        sent = await api.http.post(
            f"/cases/{case_id}/messages", json={"kind": kind, "text": "please"}, headers=olena
        )
        assert sent.status_code == 201, sent.text
    ask, interview = (await api.http.get(f"/cases/{case_id}/messages", headers=anna)).json()[
        "messages"
    ]
    due = datetime.fromisoformat(ask["answer_due"])
    assert due == datetime.fromisoformat(ask["at"]) + timedelta(days=10)
    assert interview["answer_due"] is None  # the limit is for requests for information
