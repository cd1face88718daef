"""Who may get a web session: in production nobody without the identity provider (no demo
user picker, no pasted token), and a session ends for good when its holder signs out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from test_web_pages import csrf_of, sign_in
from web_support import SECRET, Web, running_app

from api.auth import issue_dev_token

pytestmark = pytest.mark.temporal


@pytest.fixture
async def production_http(
    time_env: WorkflowEnvironment, runtime_dsn: str, pool: asyncpg.Pool
) -> AsyncIterator[httpx.AsyncClient]:
    """The app in production mode, in-process, without an identity provider configured."""
    async with (
        running_app(time_env, runtime_dsn, pool, env="production") as app,
        app.router.lifespan_context(app),
    ):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://readmit.test") as http:
            yield http


async def test_production_offers_no_demo_users_and_a_form_naming_one_gets_no_session(
    production_http: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    http = production_http
    page = await http.get("/ui/sign-in")
    assert page.status_code == 200
    assert "Anna Nowak" not in page.text and 'name="user"' not in page.text
    assert 'name="token"' not in page.text  # no pasted tokens either
    assert "READMIT_OIDC_ISSUER" in page.text  # says what is missing
    csrf = http.cookies["readmit_sign_in"]  # no form shows it: a hand-made POST carries it
    for form in ({"user": "anna.pl"}, {"user": "admin"}):
        answer = await http.post("/ui/sign-in", data={"csrf": csrf, "next": "/ui/", **form})
        assert answer.status_code == 403, answer.text
        assert "readmit_session" not in http.cookies
    token = issue_dev_token(SECRET, user="anna.pl", role="officer", state="PL")
    pasted = await http.post("/ui/sign-in", data={"csrf": csrf, "token": token})
    assert pasted.status_code == 403 and "readmit_session" not in http.cookies
    assert await pool.fetchval("SELECT count(*) FROM web_sessions") == 0
    assert (await http.get("/ui/")).status_code == 303  # still to the sign-in page
    # the identity provider's way in is not there without a provider
    assert (await http.get("/ui/sign-in/oidc")).status_code == 404


async def test_sign_out_revokes_the_session_so_a_copied_cookie_opens_nothing(
    web_http: Web,
) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    copied = http.cookies["readmit_session"]
    assert len(copied) >= 40 and copied.count(".") == 0  # a random id, not a token
    inbox = await http.get("/ui/inbox")
    assert inbox.status_code == 200
    row = await web_http.pool.fetchrow(
        "SELECT user_id, role, state, via, revoked_at FROM web_sessions"
    )
    assert row is not None and dict(row) == {
        "user_id": "anna.pl",
        "role": "officer",
        "state": "PL",
        "via": "directory",
        "revoked_at": None,
    }
    out = await http.post("/ui/sign-out", data={"csrf": csrf_of(inbox.text)})
    assert out.status_code == 303
    assert await web_http.pool.fetchval("SELECT revoked_at IS NOT NULL FROM web_sessions")

    # the cookie, copied before signing out, is sent again by someone else
    http.cookies.clear()
    http.cookies.set("readmit_session", copied)
    again = await http.get("/ui/")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/ui/sign-in")
    posted = await http.post("/ui/sign-out", data={"csrf": csrf_of(inbox.text)})
    assert posted.status_code == 303 and posted.headers["location"].startswith("/ui/sign-in")
    # a cookie holding a valid token (what the cookie held before) is no session either
    token = issue_dev_token(SECRET, user="anna.pl", role="officer", state="PL")
    http.cookies.set("readmit_session", token)
    assert (await http.get("/ui/")).status_code == 303
