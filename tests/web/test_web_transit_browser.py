"""A transit case in a real browser (Chromium): opened through the form's transit fields,
consented to by the requested state, its page checked for labels and keyboard access."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser_support import field
from test_web_browser import act, check_accessible, signed_in
from web_support import Web

pytestmark = pytest.mark.temporal


async def test_a_transit_case_in_the_browser(
    web_server: Web, chromium: Any, artifacts: Path
) -> None:
    from playwright.async_api import expect

    web, browser = web_server, chromium
    clock = await web.env.get_current_time()
    berlin = ZoneInfo("Europe/Berlin")
    hans_context, hans = await signed_in(browser, web, "hans.de", "Hans Becker")
    await hans.get_by_role("link", name="Open a case").first.click()
    await field(hans, "Kind of case").select_option("transit")
    await field(hans, "Agreement").select_option("EU-MD")
    await field(hans, "Requested state").select_option("MD")
    await field(hans, "Category").select_option("third_country_national")
    await field(hans, "Surname").fill("Beridze")
    await field(hans, "Given names").fill("Nino")
    await field(hans, "Date of birth").fill("1991-03-02")
    await field(hans, "Destination state").fill("GE")
    await field(hans, "Destination's assurance of admission").fill("GE-MIA-2027/118")
    await field(hans, "Date of the assurance").fill(
        (clock - timedelta(days=3)).astimezone(berlin).date().isoformat()
    )
    planned = (clock + timedelta(days=10)).astimezone(berlin).replace(hour=10, minute=0)
    await field(hans, "Planned transit").fill(planned.strftime("%Y-%m-%dT%H:%M"))
    await field(hans, "Entry point").fill("Chișinău International Airport")
    await field(hans, "Exit point").fill("Chișinău International Airport")
    await field(hans, "Escorts").fill("2")
    await field(hans, "Flight (optional)").fill("9U 171")
    await hans.get_by_role("button", name="Open the case").click()
    await expect(hans.locator("h1")).to_contain_text("Case DE-MD-")
    case_id = (await hans.locator("h1").inner_text()).split()[-1]
    await expect(hans.locator("#case-kind")).to_have_text("Transit")
    await expect(hans.locator("#transit")).to_contain_text("GE-MIA-2027/118")
    await expect(hans.get_by_text("the identity must be verified")).to_have_count(0)
    await check_accessible(hans)
    await act(hans, "Submit the application", "Received")

    ion_context, ion = await signed_in(browser, web, "ion.md", "Ion Rusu")
    await ion.goto(f"/ui/cases/{case_id}")
    await expect(ion.locator("#timeline .tl-bar[data-limit='transit_reply']")).to_have_count(1)
    await check_accessible(ion)
    await act(ion, "Consent to the transit", "Consented")
    await ion.screenshot(path=artifacts / "web-transit-case.png", full_page=True)
    for context in (hans_context, ion_context):
        await context.close()
    assert web.problems == []
