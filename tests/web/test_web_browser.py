"""The pages in a real browser (Playwright driving Debian's Chromium): one case from opening to
the completed transfer by two officers of different states, then an auditor replaying it.
Every step is asserted on what the page shows; screenshots go to test-artifacts/, and the three
the README shows (dashboard, case page, auditor's replay) to docs/images/, so they stay current."""

from __future__ import annotations

import contextlib
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser_support import field, open_case_in_browser
from web_support import Web

pytestmark = pytest.mark.temporal

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
with contextlib.suppress(ImportError):  # reported by the skip of the `chromium` fixture
    from playwright.async_api import Browser, BrowserContext, Page, expect


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(e => e.type !== 'hidden')
    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
    .map(e => e.name || e.id)"""


async def check_accessible(page: Page) -> None:
    """Every input has a label; the first Tab of a fresh page reaches the skip link."""
    assert await page.evaluate(UNLABELLED) == [], f"inputs without a label on {page.url}"
    assert await page.locator("main#main").count() == 1
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    await expect(skip).to_be_focused()


def watch_console(page: Page, problems: list[str]) -> None:
    """Errors in the page (a script failing, a CSP violation) fail the test."""
    page.on(
        "console", lambda m: problems.append(f"{page.url}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))


async def signed_in(
    browser: Browser, web: Web, user: str, name: str
) -> tuple[BrowserContext, Page]:
    """A browser of its own (own cookies) for `user`, signed in through the sign-in page."""
    context = await browser.new_context(
        base_url=web.base_url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    watch_console(page, web.problems)
    await page.goto("/ui/")
    await expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
    await page.get_by_role("button", name=re.compile(name)).click()
    await expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()
    return context, page


async def picture_for_docs(page: Page, name: str) -> None:
    """The top 1280x800 of the page, scrolled to the top, as docs/images/<name>.png."""
    await page.evaluate("window.scrollTo(0, 0)")
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    clip = {"x": 0, "y": 0, "width": 1280, "height": 800}
    await page.screenshot(path=DOCS_IMAGES / f"{name}.png", clip=clip)  # type: ignore[arg-type]


async def act(page: Page, action: str, status: str) -> None:
    """Press an action's button; the page comes back showing the case's new status."""
    await page.get_by_role("button", name=action, exact=True).click()
    await expect(page.locator("#case-status")).to_have_text(status)
    await expect(page.get_by_role("status").first).to_contain_text("done")


async def test_a_case_in_the_browser(web_server: Web, chromium: Browser, artifacts: Path) -> None:
    web, browser = web_server, chromium
    clock = await web.env.get_current_time()  # the workflows' clock (it may run ahead)

    # --- the requesting state's officer opens and submits the case -----------------------------
    anna_context, anna = await signed_in(browser, web, "anna.pl", "Anna Nowak")
    await check_accessible(anna)
    case_id = await open_case_in_browser(anna, clock, on_form=check_accessible)
    await expect(anna.locator("#case-status")).to_have_text("Draft")
    await expect(anna.locator("#person")).to_contain_text("Shevchenko")
    await expect(anna.get_by_role("cell", name="Proof")).to_be_visible()
    await check_accessible(anna)
    await act(anna, "Submit the application", "Received")  # delivered on submission

    # --- the requested state's officer sees it live, confirms receipt and accepts --------------
    await anna.goto("/ui/")
    row = anna.locator(f'tr[data-case="{case_id}"]')
    await expect(row).to_contain_text("Received")
    olena_context, olena = await signed_in(browser, web, "olena.ua", "Olena Kovalenko")
    await expect(olena.locator(f'tr[data-case="{case_id}"]')).to_contain_text("your move")
    await olena.get_by_role("link", name=case_id).click()
    # the reply limit already runs, from the delivery; acknowledging it moves nothing
    await expect(olena.locator("#timeline .tl-bar[data-limit='reply']")).to_have_count(1)
    await expect(olena.get_by_text("delivery of the application (its receipt)")).to_be_visible()
    await act(olena, "Confirm receipt", "Received")
    await expect(olena.get_by_text("not yet (this moves no deadline)")).to_have_count(0)
    await act(olena, "Accept", "Accepted")
    await expect(row).to_contain_text("Accepted", timeout=20_000)  # no reload: live update
    await anna.screenshot(path=artifacts / "web-dashboard.png", full_page=True)
    await picture_for_docs(anna, "dashboard")

    # --- the first officer schedules (the API's message first) and completes the transfer -----
    await anna.get_by_role("link", name=case_id).click()
    await expect(anna.locator("#case-status")).to_have_text("Accepted")
    transfer = anna.locator("#action-schedule_transfer")
    warsaw = ZoneInfo("Europe/Warsaw")
    past = (clock - timedelta(days=1)).astimezone(warsaw)
    await field(transfer, "Date and time of the transfer").fill(past.strftime("%Y-%m-%dT%H:%M"))
    await field(transfer, "Border crossing point").select_option("Medyka–Shehyni")
    await field(transfer, "Mode").select_option("land")
    await transfer.get_by_role("button", name="Schedule the transfer").click()
    await expect(anna.locator("#schedule_transfer-problem")).to_contain_text("lies in the past")
    transfer = anna.locator("#action-schedule_transfer")
    when = (clock + timedelta(days=3)).astimezone(warsaw).replace(hour=10, minute=0)
    await field(transfer, "Date and time of the transfer").fill(when.strftime("%Y-%m-%dT%H:%M"))
    await field(transfer, "Border crossing point").select_option("Medyka–Shehyni")
    await field(transfer, "Mode").select_option("land")
    await act(anna, "Schedule the transfer", "Transfer scheduled")
    await expect(anna.locator("#transfer")).to_contain_text("Medyka–Shehyni")
    await act(anna, "Record the completed transfer", "Transferred")
    await expect(anna.locator("#timeline .tl-mark")).not_to_have_count(0)
    await anna.screenshot(path=artifacts / "web-case.png", full_page=True)
    await picture_for_docs(anna, "case")

    # --- an auditor replays the case to an earlier moment, verifies and exports it ------------
    audit_context, auditor = await signed_in(browser, web, "audit.pl", "Audit Office PL")
    await auditor.goto(f"/ui/audit/cases/{case_id}")
    await check_accessible(auditor)
    await expect(auditor.locator("#chain-result")).to_contain_text("The hash chain is intact")
    await expect(auditor.locator("#replay-status")).to_contain_text("Transferred")
    slider = field(auditor, "As of event")
    await slider.focus()
    await slider.press("Home")
    await expect(auditor.locator("#replay-status")).to_contain_text("Draft")
    await slider.press("ArrowRight")  # an own national's case opens with no submission window
    await expect(auditor.locator("#replay-status")).to_contain_text("Submitted")
    await expect(auditor.locator("#as-of-label")).to_contain_text("Application submitted")
    await slider.press("ArrowRight")  # delivered in the same instant: that is the receipt
    await expect(auditor.locator("#replay-status")).to_contain_text("Received")
    await expect(auditor.locator("#as-of-label")).to_contain_text("Application delivered")
    await expect(auditor.locator("#disclosures")).to_contain_text("olena.ua")
    await auditor.screenshot(path=artifacts / "web-audit.png", full_page=True)
    await picture_for_docs(auditor, "audit-replay")
    async with auditor.expect_download() as download_info:
        await auditor.get_by_role("button", name="Export the audit bundle").click()
    download = await download_info.value
    assert download.suggested_filename == f"{case_id}-audit-bundle.zip"
    saved = artifacts / download.suggested_filename
    await download.save_as(saved)
    with zipfile.ZipFile(saved) as bundle:
        assert f"{case_id}/manifest.sig" in bundle.namelist()

    # --- the statistics, the same pages in Ukrainian, Polish, German, at a tablet's width ------
    await anna.goto("/ui/stats")
    await expect(anna.locator("#figures")).to_contain_text("EU-UA · UA")
    await check_accessible(anna)
    await anna.screenshot(path=artifacts / "web-stats.png", full_page=True)
    await field(auditor, "Language").select_option("uk")
    await expect(auditor.locator("html")).to_have_attribute("lang", "uk")
    await expect(auditor.get_by_role("heading", name=re.compile("Аудит справи"))).to_be_visible()
    await auditor.goto(f"/ui/cases/{case_id}")
    await expect(auditor.locator("#case-status")).to_have_text("Передано")
    await auditor.screenshot(path=artifacts / "web-case-uk.png", full_page=True)
    # the languages of the demo states PL and DE; the menu's label is in the current language
    for label, lang, status in (("Мова", "pl", "Przekazano"), ("Język", "de", "Überstellt")):
        await field(auditor, label).select_option(lang)
        await expect(auditor.locator("html")).to_have_attribute("lang", lang)
        await expect(auditor.locator("#case-status")).to_have_text(status)
    await anna.set_viewport_size({"width": 768, "height": 1024})
    await anna.goto("/ui/")
    width = await anna.evaluate("document.documentElement.scrollWidth")
    assert width <= 768, f"the dashboard scrolls sideways at 768 px ({width} px wide)"
    await anna.screenshot(path=artifacts / "web-dashboard-768.png", full_page=True)
    for context in (anna_context, olena_context, audit_context):
        await context.close()
    assert web.problems == [], "errors in the browser console"
