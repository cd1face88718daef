"""Sign-in through a real OpenID provider (`oidc-provider` on Node.js, tests/web/oidc/): the app
in production mode offers only the provider; the authorization code flow with PKCE brings the
browser back signed in with the role and state its claims map to; claims that map to nothing, a
forged `state` and a missing sign-in cookie are refused with a page saying why."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import asyncpg
import httpx
import pytest
from oidc_support import PASSWORDS, loopback_client, oidc_settings, running_provider
from temporalio.testing import WorkflowEnvironment
from test_web_browser import watch_console
from web_support import Web, free_port, running_app, serving

pytestmark = pytest.mark.temporal

CALLBACK = "/ui/sign-in/oidc/callback"


@dataclass
class Provided:
    web: Web
    issuer: str


@pytest.fixture
async def provided(
    time_env: WorkflowEnvironment, runtime_dsn: str, pool: asyncpg.Pool
) -> AsyncIterator[Provided]:
    """The provider, and the app in production mode signing in through it, served on
    127.0.0.1 (the provider is on `localhost`: another site, as a real provider is)."""
    port = free_port()
    redirect = f"http://127.0.0.1:{port}{CALLBACK}"
    async with (
        running_provider(free_port(), redirect) as issuer,
        running_app(
            time_env, runtime_dsn, pool, env="production", **oidc_settings(issuer, redirect)
        ) as app,
        serving(app, port) as base_url,
    ):
        with time_env.auto_time_skipping_disabled():
            yield Provided(Web(app, pool, time_env, base_url), issuer)


async def through_the_provider(
    http: httpx.AsyncClient, user: str, password: str | None = None
) -> httpx.Response:
    """Sign in as `user` at the provider's login page; the app's answer to the callback."""
    login = await http.get("/ui/sign-in/oidc", params={"next": "/ui/inbox"}, follow_redirects=True)
    assert login.status_code == 200 and "Test identity provider" in login.text, login.text
    action = re.search(r'action="([^"]+)"', login.text)
    assert action is not None
    return await http.post(
        urljoin(str(login.url), action.group(1)),
        data={"username": user, "password": password or PASSWORDS[user]},
        follow_redirects=True,
    )


async def test_the_provider_signs_in_with_the_mapped_role_and_state(provided: Provided) -> None:
    web = provided.web
    async with loopback_client(web.base_url) as http:
        page = await http.get("/ui/sign-in")
        assert 'href="/ui/sign-in/oidc?next=' in page.text
        assert "Anna Nowak" not in page.text and 'name="token"' not in page.text
        csrf = http.cookies["readmit_sign_in"]  # no form shows it: a hand-made POST carries it
        refused = await http.post("/ui/sign-in", data={"csrf": csrf, "user": "anna.pl"})
        assert refused.status_code == 403 and "readmit_session" not in http.cookies

        # the authorization request: code flow, PKCE S256, a state and a nonce
        start = await http.get("/ui/sign-in/oidc", params={"next": "/ui/inbox"})
        assert start.status_code == 303
        target = urlsplit(start.headers["location"])
        query = {k: v[0] for k, v in parse_qs(target.query).items()}
        assert f"{target.scheme}://{target.netloc}" == provided.issuer
        assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
        assert len(query["code_challenge"]) == 43 and query["state"] and query["nonce"]
        assert "readmit" in query["scope"].split()

        expected = {
            "anna.pl": "anna.pl · Officer · PL",
            "taras.ua": "taras.ua · Supervisor · UA",
            "audit.eu": "audit.eu · Auditor · PL, UA",
        }
        for user, shown in expected.items():
            http.cookies.clear()
            back = await through_the_provider(http, user)
            assert back.status_code == 200, back.text
            assert str(back.url).startswith(f"{web.base_url}{CALLBACK}?code=")
            assert 'http-equiv="refresh" content="0;url=/ui/inbox"' in back.text
            inbox = await http.get("/ui/inbox")
            assert inbox.status_code == 200 and shown in inbox.text, user
        rows = await web.pool.fetch("SELECT user_id, role, via FROM web_sessions ORDER BY 1")
        assert [tuple(r) for r in rows] == [
            ("anna.pl", "officer", "oidc"),
            ("audit.eu", "auditor", "oidc"),
            ("taras.ua", "supervisor", "oidc"),
        ]


async def test_claims_mapping_to_no_role_or_state_and_forged_answers_are_refused(
    provided: Provided,
) -> None:
    web = provided.web
    async with loopback_client(web.base_url) as http:
        for user, reason in (
            ("visitor.pl", "no Readmit role"),
            ("nostate.ua", "no state"),
        ):
            http.cookies.clear()
            back = await through_the_provider(http, user)
            assert back.status_code == 403, back.text
            assert "was not accepted" in back.text and reason in back.text
            assert "readmit_session" not in http.cookies
        http.cookies.clear()  # the provider's session too: it would sign nostate.ua in again
        wrong = await through_the_provider(http, "anna.pl", "not-her-password")
        assert wrong.status_code == 401  # the provider's own page says so; nothing reached us

        # an answer for another sign-in (its state is not this browser's)
        http.cookies.clear()
        await http.get("/ui/sign-in/oidc")
        forged = await http.get(CALLBACK, params={"code": "stolen", "state": "another"})
        assert forged.status_code == 403 and "(state)" in forged.text
        # a callback without the sign-in's cookie (another browser, or too late)
        http.cookies.clear()
        lost = await http.get(CALLBACK, params={"code": "stolen", "state": "x"})
        assert lost.status_code == 403 and "another browser" in lost.text
        # the provider's own refusal, for this very sign-in
        start = await http.get("/ui/sign-in/oidc")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        denied = await http.get(CALLBACK, params={"error": "access_denied", "state": state})
        assert denied.status_code == 403 and "access_denied" in denied.text
        # an answer naming another issuer (a mix-up, RFC 9207)
        start = await http.get("/ui/sign-in/oidc")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        mixed = await http.get(
            CALLBACK, params={"code": "x", "state": state, "iss": "https://elsewhere.test"}
        )
        assert mixed.status_code == 403 and "(iss)" in mixed.text
        assert await web.pool.fetchval("SELECT count(*) FROM web_sessions") == 0


async def test_a_browser_signs_in_through_the_provider(
    provided: Provided, chromium: Any, artifacts: Any
) -> None:
    from playwright.async_api import expect

    web = provided.web
    context = await chromium.new_context(
        base_url=web.base_url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    watch_console(page, web.problems)
    try:
        await page.goto("/ui/")
        await expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
        await expect(page.get_by_role("button", name=re.compile("Anna Nowak"))).to_have_count(0)
        await expect(page.get_by_label("Token (JWT)")).to_have_count(0)
        await page.get_by_role("link", name="Sign in with the identity provider").click()

        # the provider's own login page, on its own site
        heading = page.get_by_role("heading", name=re.compile("Test identity provider"))
        await expect(heading).to_be_visible()
        assert page.url.startswith(provided.issuer)
        await page.get_by_label("Username").fill("anna.pl")
        await page.get_by_label("Password").fill(PASSWORDS["anna.pl"])
        await page.get_by_role("button", name="Log in").click()

        # back at Readmit: the dashboard, as the officer of PL the claims make her
        await expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()
        await expect(page).to_have_url(f"{web.base_url}/ui/")
        await expect(page.locator(".who")).to_contain_text("anna.pl · Officer · PL")
        await expect(page.get_by_role("link", name="Open a case").first).to_be_visible()
        await page.screenshot(path=artifacts / "oidc-dashboard.png")

        # signing out ends the session: the dashboard asks for sign-in again
        await page.get_by_role("button", name="Sign out").click()
        await expect(page).to_have_url(re.compile(r"/ui/sign-in$"))
        await page.goto("/ui/")
        await expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
        assert web.problems == []
    finally:
        await context.close()
