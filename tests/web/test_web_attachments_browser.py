"""A case's files in a real browser (Chromium): the requesting officer uploads a PNG and a PDF
through the case page's form and downloads them back byte for byte; a GIF is refused beside
the form; the requested state's officer downloads the PDF too, and each download is in the
disclosure log."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from attachment_files import gif, pdf, png
from browser_support import field, open_case_in_browser
from test_web_browser import act, check_accessible, signed_in
from web_support import Web

pytestmark = pytest.mark.temporal


async def upload(page: Any, name: str, data: bytes, mime: str, description: str = "") -> None:
    await page.locator("#attachment-file").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
    await field(page, "Description").fill(description)
    await page.get_by_role("button", name="Add the file").click()


async def download(page: Any, row: int, target: Path) -> bytes:
    async with page.expect_download() as info:
        await page.locator("#attachments-table tbody tr").nth(row).get_by_role("link").click()
    saved = await info.value
    await saved.save_as(target)
    return await asyncio.to_thread(target.read_bytes)


async def test_files_of_a_case_in_the_browser(
    web_server: Web, chromium: Any, artifacts: Path, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    web, browser = web_server, chromium
    anna_context, anna = await signed_in(browser, web, "anna.pl", "Anna Nowak")
    clock = await web.env.get_current_time()  # the workflows' clock (it may run ahead)
    case_id = await open_case_in_browser(anna, clock)
    await expect(anna.locator("#attachments")).to_contain_text("No files.")

    scan, annex = png(21), pdf("Annex to the application")
    await upload(anna, "passport.png", scan, "image/png", "Passport, data page")
    await expect(anna.get_by_role("status").first).to_contain_text("File added")
    await upload(anna, "annex.png", annex, "image/png")  # named a PNG: the bytes say PDF
    await expect(anna.locator("#attachments-table tbody tr")).to_have_count(2)
    await expect(anna.locator("#attachments-table")).to_contain_text("Passport, data page")
    await expect(anna.locator("#attachments-table tbody tr").nth(1)).to_contain_text(
        "application/pdf"
    )
    await anna.goto(f"/ui/cases/{case_id}")  # a fresh page: its first Tab reaches the skip link
    await check_accessible(anna)
    assert await download(anna, 0, tmp_path / "a.png") == scan
    assert await download(anna, 1, tmp_path / "b.pdf") == annex

    await upload(anna, "picture.png", gif(), "image/png")
    await expect(anna.locator("#attachment-error")).to_contain_text("PDF, JPEG or PNG")
    await expect(anna.locator("#attachments-table tbody tr")).to_have_count(2)
    await act(anna, "Submit the application", "Received")

    olena_context, olena = await signed_in(browser, web, "olena.ua", "Olena Kovalenko")
    await olena.goto(f"/ui/cases/{case_id}")
    assert await download(olena, 1, tmp_path / "c.pdf") == annex
    await olena.screenshot(path=artifacts / "web-attachments.png", full_page=True)
    logged = await web.pool.fetch(
        "SELECT user_id FROM disclosure_log WHERE case_id = $1 AND purpose = 'download'"
        " ORDER BY id",
        case_id,
    )
    assert [r["user_id"] for r in logged] == ["anna.pl", "anna.pl", "olena.ua"]
    for context in (anna_context, olena_context):
        await context.close()
    assert web.problems == []
