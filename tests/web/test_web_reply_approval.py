"""A reply's approval in a real browser (Chromium), where Ukraine's replies under EU-UA await a
supervisor's approval: the officer's Accept becomes a draft shown as awaiting approval, the
supervisor returns it with reasons, the officer drafts a refusal, the supervisor approves it and
the case is refused; the requesting state never sees the draft."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import field
from factories import application_body
from test_web_browser import check_accessible, signed_in
from web_support import SECRET, Web

from api.auth import issue_dev_token

pytestmark = pytest.mark.temporal


async def received_case(web: Web) -> str:
    """A PL→UA case opened and submitted over the API (submitting delivers it)."""
    token = issue_dev_token(SECRET, user="anna.pl", role="officer", state="PL")
    body = application_body(knowledge_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=web.base_url, headers=headers) as http:
        opened = await http.post("/cases", json=body)
        assert opened.status_code == 201, opened.text
        case_id: str = opened.json()["case_id"]
        submitted = await http.post(f"/cases/{case_id}/submit", json={})
        assert submitted.status_code == 200, submitted.text
    return case_id


async def test_a_drafted_reply_is_returned_then_approved(
    approving_server: Web, chromium: Any, artifacts: Path
) -> None:
    from playwright.async_api import expect

    web, browser = approving_server, chromium
    case_id = await received_case(web)

    olena_context, olena = await signed_in(browser, web, "olena.ua", "Olena Kovalenko")
    await olena.goto(f"/ui/cases/{case_id}")
    await field(olena, "Note (optional)").fill("registry checked")
    await olena.get_by_role("button", name="Accept", exact=True).click()
    await expect(olena.get_by_role("status").first).to_contain_text("drafted")
    await expect(olena.locator("#case-status")).to_have_text("Received")
    section = olena.locator("#reply-approval")
    await expect(section).to_contain_text("Reply awaiting approval")
    await expect(olena.locator("#reply-draft-reply")).to_have_text("Accept")
    await expect(section).to_contain_text("registry checked")
    await expect(olena.get_by_role("button", name="Approve the reply")).to_have_count(0)
    # one draft at a time: no other reply is offered meanwhile
    await expect(olena.get_by_role("button", name="Refuse", exact=True)).to_have_count(0)

    taras_context, taras = await signed_in(browser, web, "taras.ua", "Taras Bondarenko")
    await taras.goto(f"/ui/cases/{case_id}")
    await check_accessible(taras)
    await taras.get_by_role("button", name="Return the reply").click()  # no reasons: refused
    await expect(taras.get_by_role("alert").first).to_contain_text("Return the reply")
    await expect(taras.locator("#return_reply-reasons")).to_have_attribute("aria-invalid", "true")
    await field(taras, "Reasons").last.fill("cite the registry's answer")
    await taras.get_by_role("button", name="Return the reply").click()
    await expect(taras.get_by_role("status").first).to_contain_text("done")
    await expect(taras.locator("#reply-returned")).to_be_visible()

    await olena.reload()
    await expect(olena.locator("#reply-approval")).to_contain_text("cite the registry's answer")
    refuse = olena.locator("#action-refuse")
    await field(refuse, "Reasons").fill("not a national of Ukraine")
    await refuse.get_by_role("button", name="Refuse", exact=True).click()
    await expect(olena.locator("#reply-draft-reply")).to_have_text("Refuse")

    await taras.reload()
    await taras.get_by_role("button", name="Approve the reply").click()
    # refused, and then closed by itself (nothing more can happen to it)
    await expect(taras.get_by_role("status").first).to_contain_text("Refused")
    await expect(taras.locator("#case-status")).to_have_text(re.compile("Refused|Closed"))
    await expect(taras.locator("#reply-approval")).to_have_count(0)
    await taras.screenshot(path=artifacts / "web-reply-approved.png", full_page=True)

    anna_context, anna = await signed_in(browser, web, "anna.pl", "Anna Nowak")
    await anna.goto(f"/ui/cases/{case_id}")
    await expect(anna.locator("#case-status")).to_have_text(re.compile("Refused|Closed"))
    await expect(anna.locator("#reply-approval")).to_have_count(0)
    await expect(anna.get_by_text("Reply drafted, awaiting approval")).to_have_count(0)
    for context in (olena_context, taras_context, anna_context):
        await context.close()
    assert web.problems == []
