"""Messages between the two states in a real browser (Chromium): the requested state asks for
information from the case page, the requesting state sees it with its author and time and
answers it, the asker sees it answered; an empty message comes back to the form with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import field, open_case_in_browser
from test_web_browser import act, check_accessible, signed_in
from web_support import Web

pytestmark = pytest.mark.temporal

ASK = "Please send the birth certificate of the person's son"
ANSWER = "A copy follows by courier on Monday"


async def test_a_conversation_on_the_case_page(
    web_server: Web, chromium: Any, artifacts: Path
) -> None:
    from playwright.async_api import expect

    web, browser = web_server, chromium
    clock = await web.env.get_current_time()
    anna_context, anna = await signed_in(browser, web, "anna.pl", "Anna Nowak")
    case_id = await open_case_in_browser(anna, clock)
    # a draft has no other side yet: no form to write
    await expect(anna.locator("#messages")).to_contain_text("No messages yet.")
    await expect(anna.get_by_role("button", name="Send the message")).to_have_count(0)
    await act(anna, "Submit the application", "Received")

    olena_context, olena = await signed_in(browser, web, "olena.ua", "Olena Kovalenko")
    await olena.goto(f"/ui/cases/{case_id}")
    messages = olena.locator("#messages")
    await check_accessible(olena)  # the form's fields are labelled
    # an empty message is refused by the form, nothing written
    await olena.get_by_role("button", name="Send the message").click()
    await expect(olena.locator("#send_case_message-problem")).to_be_visible()
    await expect(olena.locator("#message-text-error")).to_be_visible()
    await field(messages, "Kind of message").select_option("request_information")
    await field(messages, "Message").fill(ASK)
    await olena.get_by_role("button", name="Send the message").click()
    await expect(olena.get_by_role("status").first).to_contain_text("Message sent.")
    await expect(olena.locator("#conversation li")).to_have_count(1)
    await expect(olena.locator("#conversation")).to_contain_text(ASK)
    await expect(olena.locator("#conversation")).to_contain_text("not answered yet")

    await anna.goto(f"/ui/cases/{case_id}")
    first = anna.locator("#conversation li").first
    await expect(first).to_contain_text("Request for information")
    await expect(first).to_contain_text("olena.ua")
    await expect(first).to_contain_text("UA")
    await expect(first.locator("time")).to_have_count(1)
    mine = anna.locator("#messages")
    await expect(field(mine, "Kind of message").locator("option")).to_have_count(2)  # answer, note
    await field(mine, "Kind of message").select_option("answer")
    await field(mine, "In answer to").select_option(index=1)
    await field(mine, "Message").fill(ANSWER)
    await anna.get_by_role("button", name="Send the message").click()
    await expect(anna.get_by_role("status").first).to_contain_text("Message sent.")
    await expect(anna.locator("#conversation li")).to_have_count(2)
    await expect(anna.locator("#conversation li").nth(1)).to_contain_text("anna.pl")
    await anna.goto(f"/ui/cases/{case_id}")  # a fresh page (the form's redirect keeps #messages)
    await check_accessible(anna)

    await olena.reload()
    await expect(olena.locator("#conversation li").first).to_contain_text("answered")
    await expect(olena.locator("#conversation li").nth(1)).to_contain_text(ANSWER)
    await olena.locator("#messages").screenshot(path=artifacts / "web-messages.png")
    for context in (anna_context, olena_context):
        await context.close()
    # every page that showed the messages' texts is in the disclosure log
    readers = await web.pool.fetch(
        "SELECT DISTINCT user_id FROM disclosure_log WHERE case_id = $1 AND purpose = 'messages'"
        " AND endpoint = 'GET /ui/cases/{id}'",
        case_id,
    )
    assert {r["user_id"] for r in readers} == {"anna.pl", "olena.ua"}
    assert web.problems == []
