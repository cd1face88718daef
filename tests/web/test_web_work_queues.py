"""Work queues in a real browser (Chromium): an officer's "assigned to me" and "my team's
unassigned cases" views of the dashboard, and a supervisor's workload per officer with a link to
each officer's cases. The cases are opened and claimed over the API first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import application_body
from test_web_browser import check_accessible, signed_in
from web_support import SECRET, Web

from adapters.temporal.clock import advance_to
from api.auth import issue_dev_token

pytestmark = pytest.mark.temporal


async def two_cases(web: Web) -> tuple[str, str]:
    """Two PL→UA drafts of anna.pl's, the first claimed by her: (claimed, unassigned)."""
    token = issue_dev_token(SECRET, user="anna.pl", role="officer", state="PL")
    headers = {"Authorization": f"Bearer {token}"}
    known = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    ids = []
    async with httpx.AsyncClient(base_url=web.base_url, timeout=60) as http:
        for _ in range(2):
            opened = await http.post(
                "/cases", json=application_body(knowledge_at=known), headers=headers
            )
            assert opened.status_code == 201, opened.text
            ids.append(opened.json()["case_id"])
        claimed = await http.post(f"/cases/{ids[0]}/claim", json={}, headers=headers)
        assert claimed.status_code == 200, claimed.text
    return ids[0], ids[1]


async def test_work_queues_in_the_browser(web_server: Web, chromium: Any, artifacts: Path) -> None:
    from playwright.async_api import expect

    web = web_server
    mine, nobodys = await two_cases(web)
    anna_context, anna = await signed_in(chromium, web, "anna.pl", "Anna Nowak")
    queues = anna.get_by_role("navigation", name="Work queues")
    await queues.get_by_role("link", name="Assigned to me").click()
    await expect(anna.locator(f'tr[data-case="{mine}"]')).to_be_visible()
    await expect(anna.locator(f'tr[data-case="{nobodys}"]')).to_have_count(0)
    await check_accessible(anna)
    await queues.get_by_role("link", name="My team's unassigned cases").click()
    await expect(anna.locator(f'tr[data-case="{nobodys}"]')).to_be_visible()
    await expect(anna.locator(f'tr[data-case="{mine}"]')).to_have_count(0)
    await expect(anna.locator("#workload")).to_have_count(0)  # officers see no workload
    await anna_context.close()

    piotr_context, piotr = await signed_in(chromium, web, "piotr.pl", "Piotr Zieliński")
    workload = piotr.locator("#workload")
    await expect(workload).to_contain_text("Workload per officer")
    row = workload.locator('tr[data-officer="anna.pl"]')
    await expect(row.locator("td").first).to_have_text("1")
    await expect(workload.locator('tr[data-officer=""] td').first).to_have_text("1")
    await check_accessible(piotr)
    await piotr.screenshot(path=artifacts / "web-workload.png", full_page=True)
    await row.get_by_role("link", name="anna.pl").click()
    await expect(piotr.locator(f'tr[data-case="{mine}"]')).to_be_visible()
    await expect(piotr.locator(f'tr[data-case="{nobodys}"]')).to_have_count(0)
    await piotr_context.close()
    assert not web.problems, web.problems


async def escalated_case(web: Web) -> str:
    """A PL→UA case submitted over the API, its clock moved past the escalation of the reply
    limit to UA's supervisors (12 hours before it ends)."""
    token = issue_dev_token(SECRET, user="anna.pl", role="officer", state="PL")
    headers = {"Authorization": f"Bearer {token}"}
    clock = await web.env.get_current_time()
    known = (clock - timedelta(days=1)).isoformat()
    async with httpx.AsyncClient(base_url=web.base_url, timeout=60) as http:
        opened = await http.post(
            "/cases", json=application_body(knowledge_at=known), headers=headers
        )
        assert opened.status_code == 201, opened.text
        case_id: str = opened.json()["case_id"]
        submitted = await http.post(f"/cases/{case_id}/submit", json={}, headers=headers)
        assert submitted.status_code == 200, submitted.text
        shown = (await http.get(f"/cases/{case_id}", headers=headers)).json()
        due = datetime.fromisoformat(shown["deadlines"]["reply"]["due"])
    await advance_to(web.env, due - timedelta(hours=6))
    return case_id


async def test_a_supervisor_acknowledges_an_escalation_in_the_browser(
    web_server: Web, chromium: Any, artifacts: Path
) -> None:
    from playwright.async_api import expect

    web = web_server
    case_id = await escalated_case(web)
    olena_context, olena = await signed_in(chromium, web, "olena.ua", "Olena Kovalenko")
    await olena.goto(f"/ui/cases/{case_id}")
    section = olena.locator("#escalations")
    await expect(section).to_contain_text("Escalations awaiting acknowledgement")
    await expect(section.locator("#escalated-limits")).to_contain_text("Reply")
    await expect(section.get_by_role("button")).to_have_count(0)  # officers do not acknowledge
    await olena_context.close()

    taras_context, taras = await signed_in(chromium, web, "taras.ua", "Taras Bondarenko")
    await taras.goto(f"/ui/cases/{case_id}")
    await check_accessible(taras)
    await taras.screenshot(path=artifacts / "web-escalation.png", full_page=True)
    await taras.get_by_role("button", name="Acknowledge the escalations").click()
    await expect(taras.get_by_role("status").first).to_contain_text("done")
    await expect(taras.locator("#escalations")).to_have_count(0)
    history = taras.locator("table.history")
    await expect(history).to_contain_text("Escalation acknowledged")
    await taras_context.close()
    rows = await web.pool.fetch(
        "SELECT metadata->>'actor' AS actor FROM case_events"
        " WHERE stream_id = $1 AND type = 'EscalationAcknowledged'",
        case_id,
    )
    assert [r["actor"] for r in rows] == ["taras.ua"]
    assert not web.problems, web.problems
