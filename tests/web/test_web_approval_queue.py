"""The supervisors' queue of replies awaiting approval in a real browser (Chromium), where
Ukraine's replies under EU-UA await a supervisor's approval: an officer drafts an acceptance, the
supervisor finds it in the dashboard's "Replies awaiting my approval" view (and counted in the
workload section), approves it from the case page, and the view empties; the requesting state's
same view shows nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_web_browser import check_accessible, signed_in
from test_web_pages import sign_in
from test_web_reply_approval import received_case
from web_support import Web

pytestmark = pytest.mark.temporal


async def test_a_supervisor_approves_from_the_queue(
    approving_server: Web, chromium: Any, artifacts: Path
) -> None:
    from playwright.async_api import expect

    web, browser = approving_server, chromium
    case_id = await received_case(web)
    row = f'tr[data-case="{case_id}"]'

    olena_context, olena = await signed_in(browser, web, "olena.ua", "Olena Kovalenko")
    await olena.goto(f"/ui/cases/{case_id}")
    await olena.get_by_role("button", name="Accept", exact=True).click()
    await expect(olena.locator("#reply-draft-reply")).to_have_text("Accept")
    # the queue is the supervisors': an officer is offered no such view
    await olena.goto("/ui/")
    queues = olena.get_by_role("navigation", name="Work queues")
    await expect(queues.get_by_role("link", name="Replies awaiting my approval")).to_have_count(0)

    # the requesting state never learns of the draft: its same view lists nothing
    anna_context, anna = await signed_in(browser, web, "anna.pl", "Anna Nowak")
    await anna.goto("/ui/?awaiting=approval")
    await expect(anna.locator(row)).to_have_count(0)
    await anna.goto("/ui/")
    await expect(anna.locator(row)).to_be_visible()  # the case itself is anna's
    await expect(anna.locator(f"{row} .awaiting-approval")).to_have_count(0)

    taras_context, taras = await signed_in(browser, web, "taras.ua", "Taras Bondarenko")
    await taras.goto("/ui/")
    await expect(taras.locator("#awaiting-approval a")).to_have_text("1")
    queues = taras.get_by_role("navigation", name="Work queues")
    await queues.get_by_role("link", name="Replies awaiting my approval").click()
    await expect(taras).to_have_url(f"{web.base_url}/ui/?awaiting=approval")
    await expect(taras.locator(row)).to_be_visible()
    await expect(taras.locator(f"{row} .awaiting-approval")).to_have_text("Reply awaiting approval")
    await check_accessible(taras)
    await taras.screenshot(path=artifacts / "web-approval-queue.png", full_page=True)

    await taras.locator(row).get_by_role("link", name=case_id).click()
    await taras.get_by_role("button", name="Approve the reply").click()
    await expect(taras.get_by_role("status").first).to_contain_text("Accepted")
    await taras.goto("/ui/?awaiting=approval")
    await expect(taras.locator(row)).to_have_count(0)
    await expect(taras.locator("#awaiting-approval span")).to_have_text("0")

    for context in (olena_context, taras_context, anna_context):
        await context.close()
    assert web.problems == []


async def test_the_queue_s_link_and_a_filter_not_understood(web_http: Web) -> None:
    """Over HTTP: the supervisor's view is marked current; an `awaiting` value other than
    `approval` is said to be ignored; officers are offered no such view."""
    http = web_http.http
    assert http is not None
    await sign_in(http, "taras.ua")
    queue = await http.get("/ui/?awaiting=approval")
    assert queue.status_code == 200, queue.text
    assert '<a href="/ui/?awaiting=approval" aria-current="page">' in queue.text
    assert 'id="awaiting-approval"' in queue.text  # the count in the workload section
    assert 'name="awaiting" value="approval"' in queue.text  # kept by the filters form
    odd = await http.get("/ui/?awaiting=everything")
    assert odd.status_code == 200 and "ignored: awaiting" in odd.text
    await sign_in(http, "olena.ua")
    assert "/ui/?awaiting=approval" not in (await http.get("/ui/")).text
