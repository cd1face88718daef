"""Assignment in a real browser (Chromium): an officer claims their side of a case and releases
it, another officer's claim of a case already held is refused with the page's error, a
supervisor assigns it to that other officer, who then sees it as theirs; an auditor sees who
holds it and no button."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from assignment_support import with_second_officer
from browser_support import field
from test_web_browser import check_accessible, signed_in
from test_web_pages import open_case, sign_in
from web_support import Web

pytestmark = pytest.mark.temporal


async def test_claim_release_and_assign_in_the_browser(
    web_server: Web, chromium: Any, artifacts: Path
) -> None:
    from playwright.async_api import expect

    web, browser = web_server, chromium
    await with_second_officer(web.pool)
    warsaw = ZoneInfo("Europe/Warsaw")
    async with httpx.AsyncClient(base_url=web.base_url) as http:
        await sign_in(http, "anna.pl")
        case_id = await open_case(http, (await web.env.get_current_time()).astimezone(warsaw))
    url = f"/ui/cases/{case_id}"

    # Marek opens the case while nobody holds it: his page offers the claim
    marek_context, marek = await signed_in(browser, web, "marek.pl", "Marek Wójcik")
    await marek.goto(url)
    await expect(marek.locator("#assignee-requesting")).to_have_text("unassigned")
    claim_for_marek = marek.get_by_role("button", name="Claim the case", exact=True)
    await expect(claim_for_marek).to_be_visible()

    # Anna claims it, sees it as hers, and may release it
    anna_context, anna = await signed_in(browser, web, "anna.pl", "Anna Nowak")
    await anna.goto(url)
    await check_accessible(anna)
    await anna.get_by_role("button", name="Claim the case", exact=True).click()
    await expect(anna.get_by_role("status").first).to_contain_text("assigned to you")
    await expect(anna.locator("#assignee-requesting")).to_have_text("assigned to you")
    await expect(anna.get_by_role("button", name="Claim the case")).to_have_count(0)

    # Marek's claim, from the page he opened before, is refused with the page's error
    await claim_for_marek.click()
    error = marek.locator(".error-box")
    await expect(error).to_contain_text("assigned to anna.pl: a supervisor reassigns")
    await expect(marek.locator("#assignee-requesting")).to_contain_text("Anna Nowak")

    await anna.get_by_role("button", name="Release the case", exact=True).click()
    await expect(anna.get_by_role("status").first).to_contain_text("You released the case")
    await expect(anna.locator("#assignee-requesting")).to_have_text("unassigned")

    # the supervisor assigns it to Marek
    piotr_context, piotr = await signed_in(browser, web, "piotr.pl", "Piotr Zieliński")
    await piotr.goto(url)
    await check_accessible(piotr)
    await field(piotr, "Assign to").select_option("marek.pl")
    await piotr.get_by_role("button", name="Assign", exact=True).click()
    await expect(piotr.get_by_role("status").first).to_contain_text("assigned to marek.pl")
    await expect(piotr.locator("#assignee-requesting")).to_contain_text("Marek Wójcik")
    await piotr.screenshot(path=artifacts / "assignment-supervisor.png", full_page=True)

    await marek.goto(url)
    await expect(marek.locator("#assignee-requesting")).to_have_text("assigned to you")
    await expect(marek.get_by_role("button", name="Release the case", exact=True)).to_be_visible()

    # an auditor sees who holds each side, and no button
    audit_context, audit = await signed_in(browser, web, "audit.pl", "Audit Office PL")
    await audit.goto(url)
    await expect(audit.locator("#assignee-requesting")).to_have_text("assigned to marek.pl")
    await expect(audit.locator("#assignment button")).to_have_count(0)
    for context in (marek_context, anna_context, piotr_context, audit_context):
        await context.close()
    assert web.problems == []
