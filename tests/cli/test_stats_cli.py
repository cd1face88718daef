"""`readmit stats` against the real API over HTTP: the caller's figures as JSON and as text,
another state's cases not counted, and bad input, refusals and a missing token as exit codes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import typer
from factories import application_body
from served_api import ServedApi
from typer.testing import CliRunner, Result

from readmit.cli import stats

pytestmark = pytest.mark.temporal


def cli() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, as in `readmit`, not a one-command app
    stats.register(app)
    return app


async def readmit_stats(api: ServedApi, token: str | None, *args: str) -> Result:
    env = {"READMIT_API_URL": api.url, "READMIT_TOKEN": token}
    result = await asyncio.to_thread(CliRunner(env=env).invoke, cli(), ["stats", *args])
    assert "Traceback" not in result.output
    return result


async def walk(api: ServedApi) -> None:
    """PL→UA: one case refused, one a draft; DE→UA: one submitted."""
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as http:

        async def post(token: str, path: str, body: dict[str, Any] | None = None) -> Any:
            headers = {"Authorization": f"Bearer {token}"}
            answer = await http.post(path, json=body or {}, headers=headers)
            assert answer.is_success, answer.text
            return answer.json()

        anna = api.token("anna.pl", "officer", "PL")
        olena = api.token("olena.ua", "officer", "UA")
        hans = api.token("hans.de", "officer", "DE")
        refused = (await post(anna, "/cases", application_body(knowledge_at=knowledge)))["case_id"]
        await post(anna, f"/cases/{refused}/submit")
        await post(olena, f"/cases/{refused}/refuse", {"reasons": ["not a national of UA"]})
        await post(anna, "/cases", application_body(knowledge_at=knowledge))
        german = (await post(hans, "/cases", application_body(knowledge_at=knowledge)))["case_id"]
        await post(hans, f"/cases/{german}/submit")


async def test_readmit_stats(served_api: ServedApi) -> None:
    await walk(served_api)
    anna = served_api.token("anna.pl", "officer", "PL")
    for _ in range(100):  # the API's projector follows the events: wait for the last one
        result = await readmit_stats(served_api, anna, "--json")
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        if answer["total"]["by_status"].get("closed"):
            break
        await asyncio.sleep(0.05)
    assert answer["total"]["cases"] == 2  # the refused case and the draft; not DE's
    assert answer["total"]["by_status"] == {"closed": 1, "draft": 1}
    [month] = answer["by_month"]
    assert (month["cases"], month["replies"], month["refusals"]) == (2, 1, 1)
    text = await readmit_stats(served_api, anna, "--agreement", "EU-UA")
    assert text.exit_code == 0, text.output
    assert "MONTH OF OPENING" in text.stdout and month["value"] in text.stdout
    assert "EU-UA" in text.stdout and "UA" in text.stdout
    auditor = served_api.token("audit.de", "auditor", None, ("DE",))
    german = json.loads((await readmit_stats(served_api, auditor, "--json")).stdout)
    assert german["total"]["cases"] == 1 and german["time_zone"] == "UTC"


async def test_bad_input_and_refusals(served_api: ServedApi) -> None:
    anna = served_api.token("anna.pl", "officer", "PL")
    undated = await readmit_stats(served_api, anna, "--from", "2027-02-30")
    assert undated.exit_code == 2 and "--from '2027-02-30'" in undated.stderr
    backwards = await readmit_stats(served_api, anna, "--from", "2027-03-02", "--to", "2027-03-01")
    assert backwards.exit_code == 2 and "before" in backwards.stderr
    bad = await readmit_stats(served_api, anna, "--agreement", "EU UA")
    assert bad.exit_code == 2 and "Invalid input" in bad.stderr  # the API's 422
    admin = await readmit_stats(served_api, served_api.token("root.pl", "admin", "PL"))
    assert admin.exit_code == 1 and "administrators" in admin.stderr
    anonymous = await readmit_stats(served_api, None)
    assert anonymous.exit_code == 2 and "READMIT_TOKEN" in anonymous.stderr
