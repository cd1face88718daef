"""`readmit workload` against the real API over HTTP: a supervisor's JSON and table, an officer
refused (exit 1), a malformed state refused before any request (exit 2)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
import typer
from factories import application_body
from served_api import ServedApi
from typer.testing import CliRunner, Result

from readmit.cli import workload

pytestmark = pytest.mark.temporal
KNOWN = (datetime.now(UTC) - timedelta(days=1)).isoformat()


def cli() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)
    workload.register(app)
    return app


async def readmit_workload(api: ServedApi, token: str, *args: str) -> Result:
    env = {"READMIT_API_URL": api.url, "READMIT_TOKEN": token}
    result = await asyncio.to_thread(CliRunner(env=env).invoke, cli(), ["workload", *args])
    assert "Traceback" not in result.output
    return result


async def test_readmit_workload(served_api: ServedApi, pool: asyncpg.Pool) -> None:
    await pool.executemany(
        "INSERT INTO officers (user_id, state, role, display_name) VALUES ($1, $2, $3, $1)",
        [("anna.pl", "PL", "officer"), ("piotr.pl", "PL", "supervisor")],
    )
    anna = served_api.token("anna.pl", "officer", "PL")
    async with httpx.AsyncClient(base_url=served_api.url, timeout=60) as http:
        headers = {"Authorization": f"Bearer {anna}"}
        opened = await http.post(
            "/cases", json=application_body(knowledge_at=KNOWN), headers=headers
        )
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
        claimed = await http.post(f"/cases/{case_id}/claim", json={}, headers=headers)
        assert claimed.status_code == 200, claimed.text
        await http.post("/cases", json=application_body(knowledge_at=KNOWN), headers=headers)

    piotr = served_api.token("piotr.pl", "supervisor", "PL")
    answer = await readmit_workload(served_api, piotr)
    assert answer.exit_code == 0, answer.output
    body = json.loads(answer.stdout)
    assert {o["officer"]: o["cases"] for o in body["officers"]} == {"anna.pl": 1, "piotr.pl": 0}
    assert body["unassigned"]["cases"] == 1
    text = await readmit_workload(served_api, piotr, "--table")
    assert text.exit_code == 0 and "anna.pl" in text.stdout and "(unassigned)" in text.stdout

    refused = await readmit_workload(served_api, anna)
    assert refused.exit_code == 1 and "supervisors and auditors" in refused.stderr
    bad = await readmit_workload(served_api, piotr, "--state", "Poland")
    assert bad.exit_code == 2 and "two letters" in bad.stderr
