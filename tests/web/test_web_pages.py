"""The pages over HTTP without a browser: sign-in, the same access rules as the API, CSRF, the
disclosure log, forms answered with the API's messages, languages, statistics' CSV."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from web_support import SECRET, Web

from adapters.temporal.cases import CaseGateway
from api.auth import issue_dev_token

pytestmark = pytest.mark.temporal


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def idem_of(html: str, action: str = "") -> str:
    """The one-time token of a form (of the action's form on a case page)."""
    pattern = rf'name="idem" value="([^"]+{re.escape(action)})"'
    found = re.search(pattern, html)
    assert found, f"no idempotency field for {action or 'the form'}"
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, user: str) -> None:
    http.cookies.clear()
    page = await http.get("/ui/sign-in")
    assert page.status_code == 200
    answer = await http.post(
        "/ui/sign-in", data={"csrf": csrf_of(page.text), "user": user, "next": "/ui/"}
    )
    assert answer.status_code == 303, answer.text
    assert "readmit_session" in http.cookies


async def open_case(http: httpx.AsyncClient, zone_now: datetime) -> str:
    form_page = await http.get("/ui/cases/new")
    assert form_page.status_code == 200
    html = form_page.text
    knowledge = (zone_now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    answer = await http.post(
        "/ui/cases",
        data={
            "csrf": csrf_of(html),
            "idem": idem_of(html),
            "agreement": "EU-UA",
            "requested": "UA",
            "category": "own_national",
            "procedure": "standard",
            "person.surname": "Shevchenko",
            "person.given_names": "Oleksandr",
            "person.birth_date": "1990-05-17",
            "evidence.0.kind": "passport",
            "evidence.0.number": "FA123456",
            "knowledge_at": knowledge,
        },
    )
    assert answer.status_code == 303, answer.text
    target = answer.headers["location"]
    assert target.startswith("/ui/cases/PL-UA-")
    return target.rsplit("/", 1)[1]


async def test_pages_need_a_session_and_sign_in_mints_one(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    answer = await http.get("/ui/")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/ui/sign-in?next=")
    page = await http.get("/ui/sign-in")
    assert "Anna Nowak" in page.text and "Olena Kovalenko" in page.text
    forged = await http.post("/ui/sign-in", data={"csrf": "forged", "user": "anna.pl"})
    assert forged.status_code == 403 and "readmit_session" not in http.cookies
    await sign_in(http, "anna.pl")
    cookie = next(c for c in http.cookies.jar if c.name == "readmit_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    dashboard = await http.get("/ui/")
    assert dashboard.status_code == 200 and "anna.pl" in dashboard.text
    assert "script-src 'self'" in dashboard.headers["content-security-policy"]
    assert dashboard.headers["cache-control"] == "no-store"

    # production: the identity provider's token, pasted, verified like a bearer header
    http.cookies.clear()
    page = await http.get("/ui/sign-in")
    garbage = await http.post(
        "/ui/sign-in", data={"csrf": csrf_of(page.text), "token": "not-a-jwt"}
    )
    assert garbage.status_code == 401 and "The token was refused" in garbage.text
    token = issue_dev_token(SECRET, user="taras.ua", role="supervisor", state="UA")
    pasted = await http.post(
        "/ui/sign-in", data={"csrf": csrf_of(page.text), "token": token, "next": "/ui/inbox"}
    )
    assert pasted.status_code == 303 and pasted.headers["location"] == "/ui/inbox"
    assert "taras.ua" in (await http.get("/ui/inbox")).text
    signed_out = await http.post("/ui/sign-out", data={"csrf": csrf_of(page.text)})
    assert signed_out.status_code == 403  # the sign-in form's token is not the session's
    inbox = await http.get("/ui/inbox")
    out = await http.post("/ui/sign-out", data={"csrf": csrf_of(inbox.text)})
    assert out.status_code == 303 and (await http.get("/ui/")).status_code == 303


async def test_a_case_through_the_forms_with_the_api_rules(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    now = await web_http.env.get_current_time()
    case_id = await open_case(http, now)
    page = await http.get(f"/ui/cases/{case_id}")
    assert page.status_code == 200
    assert "Case PL-UA-" in page.text and "Shevchenko" in page.text and "Proof" in page.text
    assert 'id="timeline"' in page.text

    # a form without the session's CSRF token is refused, and nothing happens
    forged = await http.post(f"/ui/cases/{case_id}/actions/submit", data={"csrf": "x"})
    assert forged.status_code == 403
    # the requesting side may not accept: the API's own rule, shown back on the page
    refused = await http.post(
        f"/ui/cases/{case_id}/actions/accept", data={"csrf": csrf_of(page.text)}
    )
    assert refused.status_code == 303
    shown = await http.get(refused.headers["location"])
    assert "accept is for the requested state (UA)" in shown.text

    html = page.text
    submitted = await http.post(
        f"/ui/cases/{case_id}/actions/submit",
        data={"csrf": csrf_of(html), "idem": idem_of(html, "-submit")},
    )
    assert submitted.status_code == 303
    after = await http.get(submitted.headers["location"])
    assert "Submitted" in after.text and "done" in after.text
    # delivered on submission: the reply limit says it runs from the delivery
    assert "Runs from" in after.text and "delivery of the application (its receipt)" in after.text
    assert "not yet (this moves no deadline)" in after.text
    unverified = after.text.split('id="unverified-values"', 1)[1].split("</span>", 1)[0]
    assert ">limits.reply</abbr>" in unverified and ">transfer</abbr>" in unverified

    # the requested side: a refusal without reasons comes back with the API's message
    await sign_in(http, "olena.ua")
    page = await http.get(f"/ui/cases/{case_id}")
    html = page.text
    confirmed = await http.post(
        f"/ui/cases/{case_id}/actions/confirm_receipt",
        data={"csrf": csrf_of(html), "idem": idem_of(html, "-confirm_receipt")},
    )
    assert confirmed.status_code == 303
    page = await http.get(f"/ui/cases/{case_id}")
    html = page.text
    assert "not yet (this moves no deadline)" not in html  # acknowledged, shown with its time
    empty = await http.post(
        f"/ui/cases/{case_id}/actions/refuse",
        data={"csrf": csrf_of(html), "idem": idem_of(html, "-refuse"), "reasons": "  \n "},
    )
    assert empty.status_code == 303 and empty.headers["location"].endswith("#action-refuse")
    shown = await http.get(empty.headers["location"])
    assert 'aria-invalid="true"' in shown.text and "at least 1 item" in shown.text

    # auditors read and may not act; other states do not see the case at all
    await sign_in(http, "audit.pl")
    audit = await http.get(f"/ui/audit/cases/{case_id}")
    assert audit.status_code == 200 and "The hash chain is intact" in audit.text
    write = await http.post(
        f"/ui/cases/{case_id}/actions/close", data={"csrf": csrf_of(audit.text)}
    )
    assert write.status_code == 403
    await sign_in(http, "ion.md")
    assert (await http.get(f"/ui/cases/{case_id}")).status_code == 404

    log = await web_http.pool.fetch(
        "SELECT user_id, purpose FROM disclosure_log WHERE case_id = $1", case_id
    )
    seen = {(r["user_id"], r["purpose"]) for r in log}
    assert {("anna.pl", "case view"), ("olena.ua", "case view"), ("audit.pl", "audit")} <= seen


async def test_languages_and_statistics_csv(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "olena.ua")
    switched = await http.get("/ui/language", params={"lang": "uk", "next": "/ui/stats"})
    assert switched.status_code == 303 and switched.headers["location"] == "/ui/stats"
    page = await http.get("/ui/stats")
    assert page.status_code == 200 and 'lang="uk"' in page.text and "Статистика" in page.text
    await http.get("/ui/language", params={"lang": "ro", "next": "/ui/"})
    assert "Cazuri" in (await http.get("/ui/")).text
    for lang, words in (
        ("pl", ("Sprawy", "Statystyki", "Państwo wezwane", "Umowa · druga strona")),
        ("de", ("Fälle", "Statistik", "Ersuchter Staat", "Abkommen · Gegenseite")),
    ):
        await http.get("/ui/language", params={"lang": lang, "next": "/ui/"})
        dashboard, stats = (await http.get("/ui/")).text, (await http.get("/ui/stats")).text
        assert f'<html lang="{lang}">' in dashboard and f'data-lang="{lang}"' in stats
        assert all(word in dashboard + stats for word in words), lang
    http.cookies.delete("readmit_lang")
    for accept, lang, word in (("pl-PL,pl;q=0.9", "pl", "Sprawy"), ("de-AT,de", "de", "Fälle")):
        page = await http.get("/ui/", headers={"Accept-Language": accept})
        assert f'<html lang="{lang}">' in page.text and word in page.text
    csv = await http.get("/ui/stats.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("agreement,counterpart,cases,status_draft")
    outsider = await http.get("/ui/language", params={"lang": "uk", "next": "https://evil.example"})
    assert outsider.headers["location"] == "/ui/"
    assert datetime.now(UTC)  # the pages never needed the test's clock


async def wait_for_notification(web: Web, user: str) -> int:
    for _ in range(100):
        found = await web.pool.fetchval(
            "SELECT id FROM notifications WHERE recipient = $1 AND channel = 'inbox'"
            " ORDER BY id LIMIT 1",
            user,
        )
        if found:
            return int(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no notification for {user}")


async def test_who_sees_which_page(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    case_id = await open_case(http, await web_http.env.get_current_time())
    page = await http.get(f"/ui/cases/{case_id}")
    submitted = await http.post(
        f"/ui/cases/{case_id}/actions/submit",
        data={"csrf": csrf_of(page.text), "idem": idem_of(page.text, "-submit")},
    )
    assert submitted.status_code == 303
    found = await http.get("/ui/", params={"q": case_id[:8]})
    assert case_id in found.text and 'id="case-groups"' in found.text
    fragment = await http.get("/ui/dashboard/rows", params={"q": case_id})
    assert fragment.text.lstrip().startswith('<div id="case-groups"') and case_id in fragment.text
    assert (await http.get(f"/ui/audit/cases/{case_id}")).status_code == 403  # auditors only

    # the requested state's officer is told, and marks it read; nobody else can
    notification = await wait_for_notification(web_http, "olena.ua")
    forbidden = await http.post(
        f"/ui/inbox/{notification}/read", data={"csrf": csrf_of(found.text)}
    )
    assert forbidden.status_code == 404
    await sign_in(http, "olena.ua")
    inbox = await http.get("/ui/inbox")
    assert "New readmission application" in inbox.text and "Mark as read" in inbox.text
    # the stored English subject, in the page's language
    await http.get("/ui/language", params={"lang": "pl", "next": "/ui/inbox"})
    polish = (await http.get("/ui/inbox")).text
    assert f"{case_id}: Nowy wniosek o readmisję" in polish
    assert "New readmission application" not in polish
    await http.get("/ui/language", params={"lang": "en", "next": "/ui/inbox"})
    read = await http.post(f"/ui/inbox/{notification}/read", data={"csrf": csrf_of(inbox.text)})
    assert read.status_code == 303
    assert "Mark as read" not in (await http.get("/ui/inbox")).text

    # a third state sees neither the case nor it in lists; an admin has no case pages at all
    await sign_in(http, "ion.md")
    assert (await http.get(f"/ui/cases/{case_id}")).status_code == 404
    assert case_id not in (await http.get("/ui/")).text
    await sign_in(http, "admin")
    assert (await http.get("/ui/")).status_code == 403
    assert (await http.get("/ui/stats")).status_code == 403

    # the auditor replays, and the export is a signed bundle that logs itself
    await sign_in(http, "audit.pl")
    first = await http.get(f"/ui/audit/cases/{case_id}/replay", params={"version": "1"})
    assert first.status_code == 200 and "Version 1 of" in first.text and "Draft" in first.text
    audit = await http.get(f"/ui/audit/cases/{case_id}", params={"full": "1"})
    assert "Temporal history replays: ✔" in audit.text
    assert "Store and workflow agree: ✔" in audit.text
    before = await http.get(f"/ui/audit/cases/{case_id}", params={"as_of": "2000-01-01T00:00"})
    assert "Version 0 of" in before.text  # nothing had happened yet
    exported = await http.post(
        f"/ui/audit/cases/{case_id}/export", data={"csrf": csrf_of(audit.text)}
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.content)) as bundle:
        assert f"{case_id}/cases/{case_id}/events.jsonl" in bundle.namelist()
    purposes = await web_http.pool.fetch(
        "SELECT purpose FROM disclosure_log WHERE case_id = $1 AND user_id = 'audit.pl'", case_id
    )
    assert {"audit", "export"} <= {r["purpose"] for r in purposes}


async def test_an_action_takes_the_terms_from_the_stream_not_the_workflow(
    web_http: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A closed case's workflow needs a worker to replay it before it answers a query, and
    after the namespace's retention it is gone: the action's form never asks it."""
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    case_id = await open_case(http, await web_http.env.get_current_time())

    async def gone(*_: object) -> None:
        raise AssertionError("the workflow was queried")

    monkeypatch.setattr(CaseGateway, "view", gone)
    page = await http.get(f"/ui/cases/{case_id}")
    submitted = await http.post(
        f"/ui/cases/{case_id}/actions/submit",
        data={"csrf": csrf_of(page.text), "idem": idem_of(page.text, "-submit")},
    )
    assert submitted.status_code == 303, submitted.text
    after = await http.get(submitted.headers["location"])
    assert "Submitted" in after.text and "done" in after.text
    # delivered on submission: the reply limit says it runs from the delivery
    assert "Runs from" in after.text and "delivery of the application (its receipt)" in after.text
    assert "not yet (this moves no deadline)" in after.text
    unverified = after.text.split('id="unverified-values"', 1)[1].split("</span>", 1)[0]
    assert ">limits.reply</abbr>" in unverified and ">transfer</abbr>" in unverified


async def test_a_failing_page_answers_in_html(
    web_http: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")

    async def unreachable(*_: object) -> None:
        raise ConnectionRefusedError("PostgreSQL is down")

    monkeypatch.setattr("api.web.statistics.figures", unreachable)
    down = await http.get("/ui/stats")
    assert down.status_code == 503 and down.headers["retry-after"] == "5"
    assert down.headers["content-type"].startswith("text/html") and "<h1>" in down.text

    async def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("api.web.statistics.figures", broken)
    failed = await http.get("/ui/stats")
    assert failed.status_code == 500 and "a bug" not in failed.text
    assert "Internal error" in failed.text


async def test_an_erased_case_shows_no_personal_data(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    case_id = await open_case(http, await web_http.env.get_current_time())
    page = await http.get(f"/ui/cases/{case_id}")
    submitted = await http.post(
        f"/ui/cases/{case_id}/actions/submit",
        data={"csrf": csrf_of(page.text), "idem": idem_of(page.text, "-submit")},
    )
    assert submitted.status_code == 303
    await sign_in(http, "olena.ua")  # refuses, with a reason naming the person's family
    page = await http.get(f"/ui/cases/{case_id}")
    refused = await http.post(
        f"/ui/cases/{case_id}/actions/refuse",
        data={
            "csrf": csrf_of(page.text),
            "idem": idem_of(page.text, "-refuse"),
            "reasons": "his brother Taras lives in Lviv",
        },
    )
    assert refused.status_code == 303, refused.text
    page = await http.get(f"/ui/cases/{case_id}")
    assert "his brother Taras lives in Lviv" in page.text  # opened with the case key
    vault = web_http.app.state.services.vault
    assert await vault.erase([case_id], datetime.now(UTC), "test") == [case_id]
    page = await http.get(f"/ui/cases/{case_id}")
    assert page.status_code == 200
    assert "was erased when its retention period ended" in page.text
    for personal in ("Shevchenko", "Oleksandr", "FA123456", "1990", "Taras"):
        assert personal not in page.text, personal
    assert "Reasons for refusal" in page.text and '<p class="erased">erased</p>' in page.text
    await sign_in(http, "anna.pl")
    listed = await http.get("/ui/")
    assert "[personal data erased]" in listed.text and "SHEVCHENKO" not in listed.text


async def test_the_dashboard_is_a_disclosure_once_per_rows_shown(web_http: Web) -> None:
    """The dashboard lists surnames, initials and birth years: each page it renders writes one
    row naming every case shown; its live poll writes one only when the rows changed (it sends
    the digest of the rows it shows and gets 204 while they are current)."""
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    now = await web_http.env.get_current_time()
    first, second = [await open_case(http, now) for _ in range(2)]

    async def rows() -> list[tuple[str, list[str], str]]:
        found = await web_http.pool.fetch(
            "SELECT endpoint, case_ids, purpose FROM disclosure_log"
            " WHERE user_id = 'anna.pl' AND case_id IS NULL"
            " AND purpose <> 'earlier applications' ORDER BY id"  # the second opening's warning
        )
        return [(r["endpoint"], list(r["case_ids"]), r["purpose"]) for r in found]

    page = await http.get("/ui/")
    assert page.status_code == 200 and "SHEVCHENKO O., 1990" in page.text
    both = sorted([first, second])
    assert await rows() == [("GET /ui/", both, "dashboard")]
    digest = re.search(r'id="case-groups" data-digest="([^"]+)"', page.text)
    assert digest is not None
    unchanged = await http.get("/ui/dashboard/rows", params={"since": digest.group(1)})
    assert unchanged.status_code == 204 and unchanged.text == ""
    assert len(await rows()) == 1  # nothing shown, nothing disclosed
    changed = await http.get("/ui/dashboard/rows", params={"q": first, "since": digest.group(1)})
    assert changed.status_code == 200 and first in changed.text
    assert (await rows())[1:] == [("GET /ui/dashboard/rows", [first], "dashboard")]
    await http.get("/ui/", params={"q": "PL-UA-1999"})  # no case matches: no row
    assert len(await rows()) == 2
