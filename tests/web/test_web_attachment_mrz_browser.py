""" "Read the MRZ" of a case's file in a real browser (Chromium): the requesting officer uploads
a passport photo in the Files section, reads its MRZ, finds the evidence form filled with the
passport's number and adds it; a blank image says there is no readable MRZ; once submitted,
the requested state's officer reads the same photo and is shown its reading as a notice (they
add no evidence). Each reading is in the disclosure log. Three OCR readings in all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mrz_specimens as specimens
import pytest
from browser_support import field, open_case_in_browser
from test_web_attachments_browser import upload
from test_web_browser import act, check_accessible, signed_in
from web_support import Web

pytestmark = pytest.mark.temporal


async def test_a_passport_photo_in_the_files_fills_the_evidence_form(
    web_server: Web, chromium: Any, artifacts: Path
) -> None:
    from playwright.async_api import expect

    web = web_server
    anna_context, anna = await signed_in(chromium, web, "anna.pl", "Anna Nowak")
    clock = await web.env.get_current_time()  # the workflows' clock (it may run ahead)
    case_id = await open_case_in_browser(anna, clock, evidence=("identity_card", "ABA300000"))

    passport = specimens.phone_photo(
        specimens.render(specimens.TD3_UKRAINE), angle=-4, blur=0.6, scale=0.6, jpeg=80
    )
    await upload(anna, "passport.jpg", passport, "image/jpeg", "Passport, data page")
    await expect(anna.get_by_role("status").first).to_contain_text("File added")
    await upload(anna, "blank.png", specimens.blank(), "image/png")
    rows = anna.locator("#attachments-table tbody tr")
    await expect(rows).to_have_count(2)
    await anna.goto(f"/ui/cases/{case_id}")  # a fresh page: its first Tab reaches the skip link
    await check_accessible(anna)

    await rows.nth(1).get_by_role("button", name="Read the MRZ").click()
    await expect(anna.get_by_role("alert").first).to_contain_text("No readable MRZ")

    await rows.nth(0).get_by_role("button", name="Read the MRZ").click()
    await expect(anna.get_by_role("status").first).to_contain_text("every check digit passed")
    section = anna.locator("#mrz_evidence")
    await expect(field(section, "Kind of document")).to_have_value("passport")
    await expect(field(section, "Number")).to_have_value("FA123456")
    await section.screenshot(path=artifacts / "web-attachment-mrz-evidence.png")
    await section.get_by_role("button", name="Add evidence").click()
    await expect(anna.get_by_role("status").first).to_contain_text("Evidence added")
    await expect(anna.get_by_role("cell", name="FA123456")).to_be_visible()
    await act(anna, "Submit the application", "Received")

    # the requested side cannot add evidence: the reading is a notice to compare with the case
    olena_context, olena = await signed_in(chromium, web, "olena.ua", "Olena Kovalenko")
    await olena.goto(f"/ui/cases/{case_id}")
    await expect(olena.locator("#mrz_evidence")).to_have_count(0)
    await (
        olena.locator("#attachments-table tbody tr")
        .nth(0)
        .get_by_role("button", name="Read the MRZ")
        .click()
    )
    notice = olena.get_by_role("status").first
    await expect(notice).to_contain_text("every check digit passed")
    await expect(notice).to_contain_text("Passport FA123456")
    await expect(notice).to_contain_text("SHEVCHENKO")
    await olena.screenshot(path=artifacts / "web-attachment-mrz-notice.png", full_page=True)

    logged = await web.pool.fetch(
        "SELECT user_id FROM disclosure_log WHERE case_id = $1 AND purpose = 'mrz reading'"
        " ORDER BY id",
        case_id,
    )
    assert [r["user_id"] for r in logged] == ["anna.pl", "anna.pl", "olena.ua"]
    for context in (anna_context, olena_context):
        await context.close()
    assert web.problems == []
