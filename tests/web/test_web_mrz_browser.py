""" "Read from a scan" in a real browser (Chromium): a photographed passport fills in the
open-case form's person and evidence, a blank image says there is no readable MRZ, and on the
case page a photographed identity card fills the evidence form, which the officer confirms."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import mrz_specimens as specimens
import pytest
from browser_support import field
from test_web_browser import UNLABELLED, check_accessible, signed_in
from web_support import Web

pytestmark = pytest.mark.temporal


def image(name: str, data: bytes, kind: str = "image/jpeg") -> dict[str, Any]:
    return {"name": name, "mimeType": kind, "buffer": data}


async def test_a_scan_fills_the_forms(web_server: Web, chromium: Any, artifacts: Path) -> None:
    from playwright.async_api import expect

    web = web_server
    clock = await web.env.get_current_time()
    context, anna = await signed_in(chromium, web, "anna.pl", "Anna Nowak")
    await anna.get_by_role("link", name="Open a case").first.click()
    await check_accessible(anna)

    blank = image("blank.png", specimens.blank(), "image/png")
    await anna.locator("#open-scan").set_input_files(blank)
    await anna.get_by_role("button", name="Read from a scan").click()
    await expect(anna.locator("#open_case-problem")).to_contain_text("No readable MRZ")

    passport = specimens.phone_photo(
        specimens.render(specimens.TD3_UKRAINE), angle=-5, blur=0.8, scale=0.6, jpeg=75
    )
    await anna.locator("#open-scan").set_input_files(image("passport.jpg", passport))
    await anna.get_by_role("button", name="Read from a scan").click()
    await expect(anna.get_by_role("status").first).to_contain_text("every check digit passed")
    await expect(field(anna, "Surname")).to_have_value("Shevchenko")
    await expect(field(anna, "Given names")).to_have_value("Oleksandr")
    await expect(field(anna, "Date of birth")).to_have_value("1990-05-17")
    await expect(anna.locator("#open-evidence-0-kind")).to_have_value("passport")
    await expect(anna.locator("#open-evidence-0-number")).to_have_value("FA123456")
    await anna.screenshot(path=artifacts / "web-mrz-open-form.png", full_page=True)

    # the officer checks, completes and confirms the form
    await field(anna, "Agreement").select_option("EU-UA")
    await field(anna, "Requested state").select_option("UA")
    await field(anna, "Category").select_option("own_national")
    knowledge = (clock - timedelta(days=2)).astimezone(ZoneInfo("Europe/Warsaw"))
    await field(anna, "Knowledge of the irregular stay").fill(knowledge.strftime("%Y-%m-%dT%H:%M"))
    await anna.get_by_role("button", name="Open the case").click()
    await expect(anna.locator("h1")).to_contain_text("Case PL-UA-")
    await expect(anna.locator("#person")).to_contain_text("Shevchenko")

    # the case page's evidence form, filled from an identity card's photo
    card = specimens.phone_photo(specimens.render(specimens.TD1_POLAND), angle=3, jpeg=80)
    section = anna.locator("#mrz_evidence")
    await section.locator("#case-scan").set_input_files(image("card.jpg", card))
    await section.get_by_role("button", name="Read from a scan").click()
    section = anna.locator("#mrz_evidence")
    await expect(field(section, "Kind of document")).to_have_value("identity_card")
    await expect(field(section, "Number")).to_have_value("ABA300000")
    assert await anna.evaluate(UNLABELLED) == [], "inputs without a label on the case page"
    await section.screenshot(path=artifacts / "web-mrz-evidence-form.png")
    await section.get_by_role("button", name="Add evidence").click()
    await expect(anna.get_by_role("status").first).to_contain_text("Evidence added")
    await expect(anna.get_by_role("cell", name="ABA300000")).to_be_visible()
    await context.close()
