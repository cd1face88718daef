"""The printable documents in a real browser (Chromium): the case page offers the application
once the case is opened and the reply once the requested state has replied; a click downloads
the PDF, whose text (read with pypdf) names the person in Latin and in Cyrillic; each download
is in the disclosure log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from browser_support import open_case_in_browser
from pypdf import PdfReader
from test_web_browser import act, check_accessible, signed_in
from test_web_pages import open_case, sign_in
from web_support import Web

pytestmark = pytest.mark.temporal


def text_of(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


async def download(page: Any, link: str, artifacts: Path) -> tuple[str, str]:
    """Click the link, save the download; its suggested file name and its text."""
    async with page.expect_download() as info:
        await page.get_by_role("link", name=link).click()
    got = await info.value
    saved = artifacts / got.suggested_filename
    await got.save_as(saved)
    return got.suggested_filename, text_of(saved)


async def test_documents_download_from_the_case_page(
    web_server: Web, chromium: Any, artifacts: Path
) -> None:
    from playwright.async_api import expect

    web, browser = web_server, chromium
    clock = await web.env.get_current_time()
    anna_context, anna = await signed_in(browser, web, "anna.pl", "Anna Nowak")
    case_id = await open_case_in_browser(anna, clock)

    documents = anna.locator("#documents")
    await expect(documents.get_by_role("link")).to_have_count(1)  # no reply, no transfer yet
    await check_accessible(anna)
    name, text = await download(anna, "Readmission application (PDF)", artifacts)
    assert name == f"{case_id}-application.pdf"
    assert "SHEVCHENKO Oleksandr" in text and "ШЕВЧЕНКО Олександр" in text
    assert "Wniosek o readmisję" in text and "Клопотання про реадмісію" in text
    await act(anna, "Submit the application", "Received")

    olena_context, olena = await signed_in(browser, web, "olena.ua", "Olena Kovalenko")
    await olena.goto(f"/ui/cases/{case_id}")
    await act(olena, "Accept", "Accepted")
    await expect(olena.locator("#documents").get_by_role("link")).to_have_count(2)
    name, text = await download(olena, "Reply (PDF)", artifacts)
    assert name == f"{case_id}-reply.pdf"
    assert "Клопотання задоволено." in text and "ШЕВЧЕНКО Олександр" in text

    rows = await web.pool.fetch(
        "SELECT user_id, purpose, endpoint FROM disclosure_log WHERE case_id = $1"
        " AND purpose LIKE 'document%' ORDER BY id",
        case_id,
    )
    assert [(r["user_id"], r["purpose"], r["endpoint"]) for r in rows] == [
        ("anna.pl", "document application", "GET /ui/cases/{id}/documents/application.pdf"),
        ("olena.ua", "document reply", "GET /ui/cases/{id}/documents/reply.pdf"),
    ]
    for context in (anna_context, olena_context):
        await context.close()
    assert web.problems == []


async def test_the_page_offers_no_document_of_an_erased_case(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    case_id = await open_case(http, await web_http.env.get_current_time())
    page = await http.get(f"/ui/cases/{case_id}")
    assert f'href="/ui/cases/{case_id}/documents/application.pdf"' in page.text
    assert "documents/reply.pdf" not in page.text
    pdf = await http.get(f"/ui/cases/{case_id}/documents/application.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    early = await http.get(f"/ui/cases/{case_id}/documents/reply.pdf")
    assert early.status_code == 409 and "has not replied yet" in early.text
    unknown = await http.get(f"/ui/cases/{case_id}/documents/passport.pdf")
    assert unknown.status_code == 404
    await sign_in(http, "olena.ua")  # a draft: UA does not know the case yet
    hidden = await http.get(f"/ui/cases/{case_id}/documents/application.pdf")
    assert hidden.status_code == 404
    await sign_in(http, "anna.pl")
    vault = web_http.app.state.services.vault
    assert await vault.erase([case_id], datetime.now(UTC), "test") == [case_id]
    page = await http.get(f"/ui/cases/{case_id}")
    assert page.status_code == 200 and 'id="documents"' not in page.text
    gone = await http.get(f"/ui/cases/{case_id}/documents/application.pdf")
    assert gone.status_code == 409 and "erased" in gone.text
