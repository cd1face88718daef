"""`readmit inbox` and `readmit audit disclosures` against the real API over HTTP: an officer's
notices and an auditor's disclosure log, as JSON and as text, and a refusal as an exit code."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from factories import application_body
from served_api import ServedApi
from typer.testing import CliRunner, Result

from readmit.cli.main import app

pytestmark = pytest.mark.temporal


async def readmit(api: ServedApi, token: str | None, *args: str) -> Result:
    env = {"READMIT_API_URL": api.url, "READMIT_TOKEN": token}
    result = await asyncio.to_thread(CliRunner(env=env).invoke, app, list(args))
    assert "Traceback" not in result.output
    return result


async def test_an_officers_inbox_and_an_auditors_disclosure_log(served_api: ServedApi) -> None:
    anna = served_api.token("anna.pl", "officer", "PL")
    olena = served_api.token("olena.ua", "officer", "UA")
    auditor = served_api.token("audit.pl", "auditor", None, ("PL",))
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    async with httpx.AsyncClient(base_url=served_api.url, timeout=60) as http:
        opened = await http.post(
            "/cases",
            json=application_body(knowledge_at=knowledge),
            headers={"Authorization": f"Bearer {anna}"},
        )
        case_id = opened.json()["case_id"]
        submitted = await http.post(
            f"/cases/{case_id}/submit", json={}, headers={"Authorization": f"Bearer {anna}"}
        )
        assert submitted.status_code == 200, submitted.text
        seen = await http.get(f"/cases/{case_id}", headers={"Authorization": f"Bearer {olena}"})
        assert seen.status_code == 200

    listed = await readmit(served_api, olena, "inbox", "--json")
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.stdout)["items"]
    assert [(i["case_id"], i["kind"]) for i in items][:1] == [(case_id, "ApplicationSubmitted")]
    text = await readmit(served_api, olena, "inbox", "--unread")
    assert text.exit_code == 0 and case_id in text.stdout and "New readmission" in text.stdout

    log = await readmit(served_api, auditor, "audit", "disclosures", "--case", case_id, "--json")
    assert log.exit_code == 0, log.output
    who = {(d["user_id"], d["purpose"]) for d in json.loads(log.stdout)["items"]}
    assert ("olena.ua", "case view") in who, who
    table = await readmit(served_api, auditor, "audit", "disclosures", "--user", "olena.ua")
    assert table.exit_code == 0 and "olena.ua" in table.stdout and case_id in table.stdout
    refused = await readmit(served_api, anna, "audit", "disclosures")
    assert refused.exit_code == 1, refused.output  # an officer does not read the log
    missing = await readmit(served_api, None, "inbox")
    assert missing.exit_code == 2, missing.output
