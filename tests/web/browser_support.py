"""What the Chromium walk tests share: where the browser is and how it is launched (the
`chromium` fixture in conftest.py), the skip that says loudly why they cannot run, how a form
field is found by its label, and the usual first step of a walk: an officer opening an EU-UA
case through the open-case form."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
try:
    from playwright.async_api import async_playwright
except ImportError:  # pragma: no cover - reported by the skip below
    async_playwright = None  # type: ignore[assignment]


def need_browser() -> None:
    """Skip, saying loudly that the browser tests did NOT run and what to install."""
    if async_playwright is None:
        pytest.skip(
            "NO PLAYWRIGHT: the browser tests did NOT run; install the test extras "
            "(.venv/bin/pip install playwright)"
        )
    if not CHROMIUM.exists():
        pytest.skip(
            f"NO CHROMIUM at {CHROMIUM}: the browser tests did NOT run; "
            "install Debian's package: apt-get install -y chromium"
        )


def field(scope: Any, label: str) -> Any:
    """The input labelled `label` (required fields say so in their label)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \(required\))?$"))


async def open_case_in_browser(
    page: Any,
    clock: datetime,
    surname: str = "Shevchenko",
    given: str = "Oleksandr",
    evidence: tuple[str, str] = ("passport", "FA123456"),
    *,
    on_form: Callable[[Any], Awaitable[None]] | None = None,
) -> str:
    """A Polish officer's page opens an EU-UA case (own national, born 1990-05-17, the stay
    known since two days before `clock`, the workflows' clock) through the open-case form;
    the new case's id. `on_form` runs on the empty form first (an accessibility check)."""
    from playwright.async_api import expect

    await page.get_by_role("link", name="Open a case").first.click()
    if on_form is not None:
        await on_form(page)
    await field(page, "Agreement").select_option("EU-UA")
    await field(page, "Requested state").select_option("UA")
    await field(page, "Category").select_option("own_national")
    await field(page, "Surname").fill(surname)
    await field(page, "Given names").fill(given)
    await field(page, "Date of birth").fill("1990-05-17")
    await page.locator("#open-evidence-0-kind").fill(evidence[0])
    await page.locator("#open-evidence-0-number").fill(evidence[1])
    knowledge = (clock - timedelta(days=2)).astimezone(ZoneInfo("Europe/Warsaw"))
    await field(page, "Knowledge of the irregular stay").fill(knowledge.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_role("button", name="Open the case").click()
    await expect(page.locator("h1")).to_contain_text("Case PL-UA-")
    return str((await page.locator("h1").inner_text()).split()[-1])
