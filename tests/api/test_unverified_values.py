"""Every value in force that research has not confirmed is shown on the case (its key and
source) and listed once in the log when the API starts."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from api_harness import SECRET, Api
from factories import application_body
from structlog.testing import capture_logs
from temporalio.testing import WorkflowEnvironment

from adapters.agreements.catalogue import load_catalogue
from adapters.settings import Settings
from api.app import create_app

pytestmark = pytest.mark.temporal


def test_the_catalogue_names_unverified_sections_besides_limits() -> None:
    found = load_catalogue().unverified_in_force()
    assert "transfer" in found["EU-UA/PL"]  # the PL-UA crossing points are not confirmed
    assert "evidence" in found["EU-UA"] and "evidence" not in found["EU-MD"]
    assert (
        "limits.transit_reply" in found["EU-MD"] and "limits.transit_reply" not in found["EU-MD/AT"]
    )


async def test_the_api_lists_them_once_at_start_up(
    time_env: WorkflowEnvironment, schema_dsn: str, master_keys: dict[str, str]
) -> None:
    settings = Settings(
        jwt_secret=SECRET,
        queue_prefix=f"a{secrets.token_hex(4)}",
        database_url=None,
        master_keys=master_keys,
    )
    app = create_app(settings, database_url=schema_dsn, client=time_env.client)
    with capture_logs() as logs:
        async with app.router.lifespan_context(app):
            pass
    lines = [line for line in logs if line["event"] == "agreement.unverified_values"]
    expected = load_catalogue().unverified_in_force()
    assert {line["agreement"]: tuple(line["keys"]) for line in lines} == expected
    assert len(lines) == len(expected)  # once each


async def test_the_case_shows_each_unverified_value_with_its_source(
    api: Api, pool: asyncpg.Pool
) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    knowledge = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    opened = await api.http.post(
        "/cases", json=application_body(knowledge_at=knowledge), headers=anna
    )
    assert opened.status_code == 201, opened.text
    view = (await api.http.get(f"/cases/{opened.json()['case_id']}", headers=anna)).json()
    shown = {v["key"]: v["source"] for v in view["agreement"]["unverified_values"]}
    terms = load_catalogue().terms("EU-UA", "PL", "UA")
    assert shown == dict(terms.unverified_values)
    assert "transfer" in shown and "NOT confirmed" in shown["transfer"]
