"""`/docs` in a real browser: Swagger UI renders the API's operations from this origin alone,
under the page's own Content-Security-Policy, with no request to any other site."""

from __future__ import annotations

import pytest
from test_web_browser import watch_console
from web_support import Web

pytestmark = pytest.mark.temporal


async def test_docs_render_from_this_origin_only(web_server: Web, chromium: object) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(chromium, Browser)
    context = await chromium.new_context(base_url=web_server.base_url)
    page = await context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    problems: list[str] = []
    watch_console(page, problems)
    await page.goto("/docs")
    operations = page.locator(".opblock-summary-path")
    await expect(operations.first).to_be_visible(timeout=20_000)
    paths = await operations.all_inner_texts()
    assert "/cases" in [p.strip() for p in paths], paths
    foreign = [u for u in requested if not u.startswith((web_server.base_url, "data:"))]
    assert not foreign, f"the docs page fetched from elsewhere: {foreign}"
    assert not problems, problems  # a script refused by the policy, or failing
    await context.close()
