"""The person search in a real browser (Chromium): a second case of the same person warns on
its page and links the first; the search page finds both under another transliteration, with
scores and reasons; a search with no criterion says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import field, open_case_in_browser
from test_web_browser import check_accessible, signed_in
from web_support import Web

pytestmark = pytest.mark.temporal


async def test_the_person_search_in_the_browser(
    web_server: Web, chromium: Any, artifacts: Path
) -> None:
    from playwright.async_api import expect

    web = web_server
    clock = await web.env.get_current_time()
    context, anna = await signed_in(chromium, web, "anna.pl", "Anna Nowak")

    first = await open_case_in_browser(anna, clock, "Шевченко", "Олександр")
    await expect(anna.locator("#earlier-cases")).to_have_count(0)
    second = await open_case_in_browser(anna, clock, evidence=("passport", "FB765432"))
    warning = anna.locator("#earlier-cases")
    await expect(warning).to_contain_text("This person already has other cases")
    await expect(warning).to_contain_text("surname, date of birth")
    await check_accessible(anna)
    await warning.get_by_role("link", name=first).click()
    await expect(anna.locator("h1")).to_contain_text(first)
    await expect(anna.locator("#earlier-cases")).to_contain_text(second)  # and back

    await anna.get_by_role("link", name="Find a person").click()
    await expect(anna.locator("h1")).to_have_text("Find a person")
    await check_accessible(anna)
    await anna.get_by_role("button", name="Search").click()
    await expect(anna.get_by_role("alert")).to_contain_text("Give a surname")
    await field(anna, "Surname").fill("Schewtschenko")
    await field(anna, "Date of birth").fill("1990-05-17")
    await anna.get_by_role("button", name="Search").click()
    rows = anna.locator("#search-results tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("100%")
    await expect(rows.first).to_contain_text("surname, date of birth")
    assert "Schewtschenko" not in anna.url and "1990" not in anna.url  # the form was posted
    await field(anna, "Given names").fill("Aleksandr")  # the values typed stay in the form
    await field(anna, "Surname").fill("")
    await field(anna, "Date of birth").fill("")
    await anna.get_by_role("button", name="Search").click()
    await expect(rows.first).to_contain_text("given names (similar spelling)")
    await rows.first.get_by_role("link").click()
    await expect(anna.locator("h1")).to_contain_text("Case PL-UA-")
    await anna.screenshot(path=artifacts / "web-person-search.png", full_page=True)
    await context.close()
    assert web.problems == []
