"""Who may call what: every endpoint of the app, called by every kind of caller, answers exactly
the status the table below says. A new endpoint without a row here fails the test.

The case under test is PL→UA (EU-UA), opened by the PL officer and still a draft, so the table
reads: requesting side = PL, requested side = UA, DE is a third state.

- no token, a garbage token, one signed with another key, one with `alg: none`, an expired one:
  401 everywhere except the public operations endpoints and the docs;
- a role that may not use an endpoint (auditors and admins writing, admins on the identity
  helpers and cases, non-auditors on the audit log): 403, before anything is looked up;
- an officer of the wrong side for a command: 403; an officer of a third state asking about the
  case: 404 (its existence is not disclosed), and so does the requested state (UA) while the
  case is a draft: until it is submitted UA does not know it exists (tests/api/
  test_draft_disclosure.py checks every read surface with a draft, a submitted case and a draft
  withdrawn);
- allowed commands reach the decider: 200 for what a draft allows (submit, withdraw; each on a
  fresh case), 409 for what it refuses.

The web pages under `/ui` hold the token in a session cookie, not a header. For them the table
says which pages are public (one status for everybody) and, for the others, the session layer
only: without a valid session cookie (a bearer header is not one) the answer is a redirect to
the sign-in page; with one it is not. Which role may see which page is tests/web's subject.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import typer
from api_harness import SECRET, Api, app_endpoints
from attachment_files import png
from factories import application_body
from typer.testing import CliRunner

from adapters.settings import get_settings
from api.auth import issue_dev_token
from domain.identity.unzr import make_unzr
from readmit.cli import token

pytestmark = pytest.mark.temporal

PRINCIPALS: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
    "officer PL": ("anna.pl", "officer", "PL", ()),
    "supervisor PL": ("piotr.pl", "supervisor", "PL", ()),
    "officer UA": ("olena.ua", "officer", "UA", ()),
    "supervisor UA": ("taras.ua", "supervisor", "UA", ()),
    "auditor PL": ("audit.pl", "auditor", None, ("PL",)),
    "auditor *": ("audit.all", "auditor", None, ("*",)),
    "admin PL": ("root.pl", "admin", "PL", ()),
    "officer DE": ("hans.de", "officer", "DE", ()),
}
ANONYMOUS = ("no token", "garbage token", "foreign key", "alg none", "expired token")
CALLERS = (*PRINCIPALS, *ANONYMOUS)

# Administrators manage the directory, not cases: `Principal.sees_case` is False for them, so
# reading a case answers 404 like any case they cannot see (listing cases answers 403).
ADMIN_READS_A_CASE = 403

Row = dict[str, int]


@dataclass(frozen=True)
class Page:
    """A web UI route: `public` is the status everyone gets when it needs no session."""

    public: int | None = None


SESSION = Page()
SIGN_IN = "/ui/sign-in"


def row(**by_caller: int) -> Row:
    """One expectation per principal (keys with spaces written with underscores, `_all` = *)."""
    table = {k.replace("_all", " *").replace("_", " "): v for k, v in by_caller.items()}
    assert set(table) == set(PRINCIPALS), sorted(set(PRINCIPALS) ^ set(table))
    return table


PUBLIC = {caller: 200 for caller in CALLERS}
# a single installation is no federated node: its federation endpoints are not there, for anyone
# (a node's are tested in tests/federation/)
NOT_A_NODE = {caller: 404 for caller in CALLERS}
NOT_A_NODE_CASE = row(  # the case is authorised first: then 404, as on every installation
    officer_PL=404, supervisor_PL=404, officer_UA=404, supervisor_UA=404,
    auditor_PL=404, auditor_all=404, admin_PL=404, officer_DE=404,
)  # fmt: skip
ANY_CALLER = row(
    officer_PL=200, supervisor_PL=200, officer_UA=200, supervisor_UA=200,
    auditor_PL=200, auditor_all=200, admin_PL=200, officer_DE=200,
)  # fmt: skip
OPEN_CASE = row(  # UA cannot ask itself to readmit (422); DE is an EU state like PL
    officer_PL=201, supervisor_PL=201, officer_UA=422, supervisor_UA=422,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=201,
)  # fmt: skip
LIST_CASES = row(
    officer_PL=200, supervisor_PL=200, officer_UA=200, supervisor_UA=200,
    auditor_PL=200, auditor_all=200, admin_PL=403, officer_DE=200,
)  # fmt: skip
READ_CASE = row(  # a draft: UA, the requested state, does not know it yet
    officer_PL=200, supervisor_PL=200, officer_UA=404, supervisor_UA=404,
    auditor_PL=200, auditor_all=200, admin_PL=ADMIN_READS_A_CASE, officer_DE=404,
)  # fmt: skip
REQUESTING_DRAFT_ALLOWS = row(
    officer_PL=200, supervisor_PL=200, officer_UA=404, supervisor_UA=404,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=404,
)  # fmt: skip
REQUESTING_DRAFT_REFUSES = row(
    officer_PL=409, supervisor_PL=409, officer_UA=404, supervisor_UA=404,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=404,
)  # fmt: skip
REQUESTED_DRAFT_REFUSES = row(
    officer_PL=403, supervisor_PL=403, officer_UA=404, supervisor_UA=404,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=404,
)  # fmt: skip
SUPERVISOR_ASSIGNS = row(  # to an officer of the directory (anna.pl, PL)
    officer_PL=403, supervisor_PL=200, officer_UA=404, supervisor_UA=404,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=404,
)  # fmt: skip
IDENTITY = row(
    officer_PL=200, supervisor_PL=200, officer_UA=200, supervisor_UA=200,
    auditor_PL=200, auditor_all=200, admin_PL=403, officer_DE=200,
)  # fmt: skip
MRZ_READ = row(  # the matrix sends JSON, not the image: writers get past the role check (422)
    officer_PL=422, supervisor_PL=422, officer_UA=422, supervisor_UA=422,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=422,
)  # fmt: skip
OWN_NOTIFICATION = row(  # the notification is in the UA officers' shared inbox
    officer_PL=404, supervisor_PL=404, officer_UA=200, supervisor_UA=404,
    auditor_PL=404, auditor_all=404, admin_PL=404, officer_DE=404,
)  # fmt: skip
CODEC = row(  # decrypting payloads reveals any case's: auditors of every state, operators
    officer_PL=403, supervisor_PL=403, officer_UA=403, supervisor_UA=403,
    auditor_PL=403, auditor_all=200, admin_PL=403, officer_DE=403,
)  # fmt: skip
ADD_ATTACHMENT = row(  # either party's officers; only PL knows a draft; auditors never write
    officer_PL=201, supervisor_PL=201, officer_UA=404, supervisor_UA=404,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=404,
)  # fmt: skip
MRZ_ATTACHMENT = row(  # the case's writers read its file (a PNG without an MRZ: 422)
    officer_PL=422, supervisor_PL=422, officer_UA=404, supervisor_UA=404,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=404,
)  # fmt: skip
# a multipart upload (the body of POST /cases/{id}/attachments): a PNG in the `file` field
UPLOAD = object()
SUPERVISOR_ACKNOWLEDGES = row(  # a draft has no escalation: 409 for PL's supervisor
    officer_PL=403, supervisor_PL=409, officer_UA=404, supervisor_UA=404,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=404,
)  # fmt: skip
WORKLOAD = row(  # supervisors and auditors of one state; an auditor of every state names one
    officer_PL=403, supervisor_PL=200, officer_UA=403, supervisor_UA=200,
    auditor_PL=200, auditor_all=422, admin_PL=403, officer_DE=403,
)  # fmt: skip
AUDITORS = row(
    officer_PL=403, supervisor_PL=403, officer_UA=403, supervisor_UA=403,
    auditor_PL=200, auditor_all=200, admin_PL=403, officer_DE=403,
)  # fmt: skip
DOCUMENT_NOT_YET = row(  # a draft has its application, not yet a reply or a transfer notice
    officer_PL=409, supervisor_PL=409, officer_UA=404, supervisor_UA=404,
    auditor_PL=409, auditor_all=409, admin_PL=403, officer_DE=404,
)  # fmt: skip

TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
OPEN = application_body(knowledge_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
REASONS = {"reasons": ["the matrix test"]}
PERSON = {"surname": "Shevchenko", "given_names": "Oleksandr", "birth_date": "1990-05-18"}
TRANSFER = {
    "on": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
    "bcp": "Medyka–Shehyni",
    "mode": "land",
}
DEADLINE_QUERY = {
    "limit": "reply",
    "requesting": "PL",
    "requested": "UA",
    "from": "2027-01-04T10:00:00+01:00",
}


# (method, path) -> (expected status per caller, JSON body, query)
MATRIX: dict[tuple[str, str], tuple[Row | Page, Any, dict[str, str] | None]] = {
    ("GET", "/openapi.json"): (PUBLIC, None, None),
    ("GET", "/docs"): (PUBLIC, None, None),
    ("GET", "/docs/assets/{asset}"): (PUBLIC, None, None),
    ("GET", "/health"): (PUBLIC, None, None),
    ("POST", "/federation/messages"): (NOT_A_NODE, {}, None),
    ("GET", "/federation/descriptor"): (NOT_A_NODE, None, None),
    ("POST", "/federation/heads"): (NOT_A_NODE, {}, None),
    ("GET", "/federation/schemas/message.json"): (PUBLIC, None, None),
    ("GET", "/federation/schemas/receipt.json"): (PUBLIC, None, None),
    ("GET", "/cases/{case_id}/exchange"): (NOT_A_NODE_CASE, None, None),
    ("GET", "/ready"): (PUBLIC, None, None),
    ("GET", "/metrics"): (ANY_CALLER, None, None),
    ("POST", "/cases"): (OPEN_CASE, OPEN, None),
    ("GET", "/cases"): (LIST_CASES, None, None),
    ("GET", "/cases/{case_id}"): (READ_CASE, None, None),
    ("GET", "/cases/{case_id}/events"): (READ_CASE, None, None),
    ("GET", "/cases/{case_id}/state"): (READ_CASE, None, {"version": "1"}),
    ("GET", "/cases/{case_id}/verify"): (READ_CASE, None, None),
    ("POST", "/cases/{case_id}/evidence"): (
        REQUESTING_DRAFT_ALLOWS,
        {"items": [{"kind": "id_card", "number": "AB123456"}]},
        None,
    ),
    ("POST", "/cases/{case_id}/submit"): (REQUESTING_DRAFT_ALLOWS, {}, None),
    ("POST", "/cases/{case_id}/receipt"): (REQUESTED_DRAFT_REFUSES, {}, None),
    ("POST", "/cases/{case_id}/verification"): (
        REQUESTED_DRAFT_REFUSES,
        {"status": "confirmed", "score": 0.9},
        None,
    ),
    ("POST", "/cases/{case_id}/extension"): (REQUESTED_DRAFT_REFUSES, REASONS, None),
    ("POST", "/cases/{case_id}/accept"): (REQUESTED_DRAFT_REFUSES, {}, None),
    ("POST", "/cases/{case_id}/refuse"): (REQUESTED_DRAFT_REFUSES, REASONS, None),
    ("POST", "/cases/{case_id}/transfer"): (REQUESTING_DRAFT_REFUSES, TRANSFER, None),
    ("POST", "/cases/{case_id}/transfer/confirmation"): (REQUESTED_DRAFT_REFUSES, {}, None),
    ("POST", "/cases/{case_id}/transfer/objection"): (REQUESTED_DRAFT_REFUSES, REASONS, None),
    ("POST", "/cases/{case_id}/transfer/complete"): (REQUESTING_DRAFT_REFUSES, {}, None),
    ("POST", "/cases/{case_id}/transfer/extension"): (
        REQUESTING_DRAFT_REFUSES,
        {"days": 5, **REASONS},
        None,
    ),
    ("POST", "/cases/{case_id}/error-claim"): (REQUESTED_DRAFT_REFUSES, REASONS, None),
    ("POST", "/cases/{case_id}/error-claim/accept"): (REQUESTING_DRAFT_REFUSES, {}, None),
    ("POST", "/cases/{case_id}/error-claim/dispute"): (REQUESTING_DRAFT_REFUSES, REASONS, None),
    ("POST", "/cases/{case_id}/return"): (REQUESTED_DRAFT_REFUSES, TRANSFER, None),
    ("POST", "/cases/{case_id}/return/complete"): (REQUESTED_DRAFT_REFUSES, {}, None),
    ("POST", "/cases/{case_id}/person"): (REQUESTING_DRAFT_ALLOWS, {"person": PERSON}, None),
    ("POST", "/cases/{case_id}/withdraw"): (REQUESTING_DRAFT_ALLOWS, REASONS, None),
    ("POST", "/cases/{case_id}/close"): (REQUESTING_DRAFT_REFUSES, {}, None),
    # assignment: either party's officers for their own side (only PL knows a draft)
    ("POST", "/cases/{case_id}/claim"): (REQUESTING_DRAFT_ALLOWS, {}, None),
    ("POST", "/cases/{case_id}/release"): (REQUESTING_DRAFT_REFUSES, {}, None),  # no assignee
    ("POST", "/cases/{case_id}/assign"): (SUPERVISOR_ASSIGNS, {"officer": "anna.pl"}, None),
    # a reply's approval: the requested state's supervisors (UA does not know a draft yet)
    ("POST", "/cases/{case_id}/reply/approve"): (REQUESTED_DRAFT_REFUSES, {}, None),
    ("POST", "/cases/{case_id}/reply/return"): (REQUESTED_DRAFT_REFUSES, REASONS, None),
    # attachments (api/routes/attachments.py): the shared case holds one (see the setup)
    ("POST", "/cases/{case_id}/attachments"): (ADD_ATTACHMENT, UPLOAD, None),
    ("GET", "/cases/{case_id}/attachments"): (READ_CASE, None, None),
    ("GET", "/cases/{case_id}/attachments/{attachment_id}"): (READ_CASE, None, None),
    ("POST", "/cases/{case_id}/attachments/{attachment_id}/mrz"): (MRZ_ATTACHMENT, None, None),
    # messages: either party writes once submitted (a draft has no other side yet); all read
    ("POST", "/cases/{case_id}/messages"): (
        REQUESTING_DRAFT_REFUSES,
        {"kind": "note", "text": "the matrix test"},
        None,
    ),
    ("GET", "/cases/{case_id}/messages"): (READ_CASE, None, None),
    ("POST", "/cases/{case_id}/escalations/acknowledge"): (SUPERVISOR_ACKNOWLEDGES, {}, None),
    # transit commands on a readmission case: 409 (each kind takes its own commands)
    ("POST", "/cases/{case_id}/transit/consent"): (REQUESTED_DRAFT_REFUSES, {}, None),
    ("POST", "/cases/{case_id}/transit/refuse"): (REQUESTED_DRAFT_REFUSES, REASONS, None),
    ("POST", "/cases/{case_id}/transit/schedule"): (
        REQUESTING_DRAFT_REFUSES,
        {"on": TRANSFER["on"], "entry_point": "Medyka", "exit_point": "Medyka"},
        None,
    ),
    ("POST", "/cases/{case_id}/transit/complete"): (REQUESTED_DRAFT_REFUSES, {}, None),
    ("POST", "/cases/{case_id}/transit/failure"): (REQUESTED_DRAFT_REFUSES, REASONS, None),
    ("POST", "/cases/{case_id}/transit/take-back"): (REQUESTING_DRAFT_REFUSES, {}, None),
    ("GET", "/agreements"): (ANY_CALLER, None, None),
    ("GET", "/agreements/{agreement_id}"): (ANY_CALLER, None, {"protocol": "PL"}),
    ("GET", "/agreements/{agreement_id}/deadlines"): (ANY_CALLER, None, DEADLINE_QUERY),
    ("POST", "/identity/mrz"): (IDENTITY, {"lines": TD3}, None),
    ("POST", "/identity/match"): (
        IDENTITY,
        {"a": "Олександр Шевченко", "b": "O. Shevchenko"},
        None,
    ),
    ("POST", "/identity/unzr"): (IDENTITY, {"number": make_unzr(date(1990, 5, 17), 1)}, None),
    ("POST", "/mrz/read"): (MRZ_READ, {}, None),
    ("GET", "/inbox"): (ANY_CALLER, None, {"unread": "true"}),
    ("GET", "/stats"): (LIST_CASES, None, {"kind": "readmission"}),
    ("GET", "/workload"): (WORKLOAD, None, None),
    ("POST", "/inbox/{notification_id}/read"): (OWN_NOTIFICATION, None, None),
    ("GET", "/audit/disclosures"): (AUDITORS, None, None),
    ("POST", "/codec/decode"): (CODEC, {"payloads": []}, None),
    ("OPTIONS", "/codec/decode"): (PUBLIC, None, None),  # CORS preflights carry no token
    ("GET", "/"): (Page(public=307), None, None),
    ("GET", "/ui"): (Page(public=308), None, None),
    ("GET", "/ui/sign-in"): (Page(public=200), None, None),
    ("POST", "/ui/sign-in"): (Page(public=403), None, None),  # no CSRF token in the form
    # the identity provider's sign-in: no provider is configured here (tests/web/test_web_oidc.py)
    ("GET", "/ui/sign-in/oidc"): (Page(public=404), None, None),
    ("GET", "/ui/sign-in/oidc/callback"): (Page(public=404), None, None),
    ("GET", "/ui/language"): (Page(public=303), None, None),
    ("GET", "/ui/static/{name}"): (Page(public=200), None, None),
    ("POST", "/ui/sign-out"): (SESSION, None, None),
    ("GET", "/ui/"): (SESSION, None, None),
    ("GET", "/ui/dashboard/rows"): (SESSION, None, None),
    ("GET", "/ui/cases/new"): (SESSION, None, None),
    ("POST", "/ui/cases"): (SESSION, None, None),
    ("GET", "/ui/cases/{case_id}"): (SESSION, None, None),
    ("POST", "/ui/cases/{case_id}/actions/{action}"): (SESSION, None, None),
    ("POST", "/ui/cases/{case_id}/reply/{action}"): (SESSION, None, None),
    ("POST", "/ui/cases/{case_id}/attachments"): (SESSION, None, None),
    ("GET", "/ui/cases/{case_id}/attachments/{attachment_id}"): (SESSION, None, None),
    ("POST", "/ui/cases/{case_id}/attachments/{attachment_id}/mrz"): (SESSION, None, None),
    ("POST", "/ui/cases/new/mrz"): (SESSION, None, None),
    ("POST", "/ui/cases/{case_id}/mrz"): (SESSION, None, None),
    ("POST", "/ui/cases/{case_id}/evidence"): (SESSION, None, None),
    ("POST", "/ui/cases/{case_id}/messages"): (SESSION, None, None),
    ("POST", "/ui/cases/{case_id}/escalations/acknowledge"): (SESSION, None, None),
    ("GET", "/ui/inbox"): (SESSION, None, None),
    ("POST", "/ui/inbox/{notification_id}/read"): (SESSION, None, None),
    ("GET", "/ui/audit/cases/{case_id}"): (SESSION, None, None),
    ("GET", "/ui/audit/cases/{case_id}/replay"): (SESSION, None, None),
    ("POST", "/ui/audit/cases/{case_id}/export"): (SESSION, None, None),
    ("GET", "/ui/stats"): (SESSION, None, None),
    ("GET", "/ui/stats.csv"): (SESSION, None, None),
    ("GET", "/cases/{case_id}/documents/application.pdf"): (READ_CASE, None, None),
    ("GET", "/cases/{case_id}/documents/transit-application.pdf"): (DOCUMENT_NOT_YET, None, None),
    ("GET", "/cases/{case_id}/documents/reply.pdf"): (DOCUMENT_NOT_YET, None, None),
    ("GET", "/cases/{case_id}/documents/transfer-notice.pdf"): (DOCUMENT_NOT_YET, None, None),
    ("GET", "/ui/cases/{case_id}/documents/{document}.pdf"): (SESSION, None, None),
    # the person search (issue 17): a read, scoped like the case list
    ("POST", "/search/persons"): (LIST_CASES, {"surname": "Shevchenko"}, None),
    ("GET", "/ui/search"): (SESSION, None, None),
    ("POST", "/ui/search"): (SESSION, None, None),
}


def test_every_endpoint_has_a_row() -> None:
    endpoints = app_endpoints()
    assert not endpoints - set(MATRIX), "endpoints missing from the access matrix"
    assert not set(MATRIX) - endpoints, "matrix rows for endpoints that no longer exist"


def anonymous_token(kind: str) -> str | None:
    claims = {"sub": "anna.pl", "role": "officer", "state": "PL", "exp": int(time.time()) + 600}
    token = {
        "no token": None,
        "garbage token": "not-a-jwt",
        "foreign key": jwt.encode(claims, "another-secret-of-sufficient-length", algorithm="HS256"),
        "alg none": jwt.encode(claims, None, algorithm="none"),  # type: ignore[arg-type]
        "expired token": issue_dev_token(
            SECRET,
            user="anna.pl",
            role="officer",
            state="PL",
            ttl_minutes=1,
            now=time.time() - 7200,
        ),
    }[kind]
    return token


def api_mismatches(where: str, want: int, answer: httpx.Response) -> list[str]:
    got, found = answer.status_code, []
    if got != want:
        found.append(f"{where}: {got} (want {want})")
    problem = answer.headers.get("content-type", "").startswith("application/problem+json")
    if got in (401, 403, 404) and not problem:
        found.append(f"{where}: {got} is not a problem document")
    if got == 401 and answer.headers.get("www-authenticate") != "Bearer":
        found.append(f"{where}: 401 without WWW-Authenticate: Bearer")
    return found


def page_mismatches(where: str, page: Page, signed_in: bool, answer: httpx.Response) -> list[str]:
    got = answer.status_code
    to_sign_in = got == 303 and answer.headers.get("location", "").startswith(SIGN_IN)
    if page.public is not None:
        return [] if got == page.public else [f"{where}: {got} (want {page.public})"]
    if got >= 500:
        return [f"{where}: {got}"]
    if signed_in and to_sign_in:
        return [f"{where}: a valid session was sent to the sign-in page"]
    if not signed_in and not to_sign_in:
        return [f"{where}: {got} without a session (want 303 to {SIGN_IN})"]
    return []


async def open_case(api: Api) -> str:
    answer = await api.http.post("/cases", json=OPEN, headers=api.as_("anna.pl", "officer", "PL"))
    assert answer.status_code == 201, answer.text
    case_id: str = answer.json()["case_id"]
    return case_id


async def test_access_matrix(api: Api) -> None:
    case_id = await open_case(api)
    submitted = await open_case(api)  # its notice is UA's: a draft's would be hidden from UA
    anna = api.as_("anna.pl", "officer", "PL")
    answer = await api.http.post(f"/cases/{submitted}/submit", json={}, headers=anna)
    assert answer.status_code == 200, answer.text
    notification_id = await api.pool.fetchval(
        "INSERT INTO notifications (key, notice_key, case_id, recipient, state, role, channel,"
        " kind, subject, payload, status) VALUES ('m', 'm', $1, '@UA:officer', 'UA', 'officer',"
        " 'inbox', 'ApplicationSubmitted', 'subject', '{}', 'delivered') RETURNING id",
        submitted,
    )
    await api.pool.execute(  # the officer the supervisors assign cases to
        "INSERT INTO officers (user_id, state, role, display_name) VALUES"
        " ('anna.pl', 'PL', 'officer', 'Anna')"
    )
    attached = await api.http.post(
        f"/cases/{case_id}/attachments",
        files={"file": ("scan.png", png(), "image/png")},
        headers=api.as_("anna.pl", "officer", "PL"),
    )
    assert attached.status_code == 201, attached.text
    mismatches: list[str] = []
    for (method, template), (expected, body, query) in MATRIX.items():
        for caller in CALLERS:
            token = (
                api.token(*PRINCIPALS[caller]) if caller in PRINCIPALS else anonymous_token(caller)
            )
            target = case_id
            if isinstance(expected, Page):
                # a page's session is a `web_sessions` row; anonymous callers send their token
                cookie = await api.session(*PRINCIPALS[caller]) if caller in PRINCIPALS else token
                headers = {"Cookie": f"readmit_session={cookie}"} if cookie else {}
                if token and caller in ANONYMOUS:  # neither as a cookie nor as a header
                    headers["Authorization"] = f"Bearer {token}"
            else:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                want = expected.get(caller, 401) if expected is not PUBLIC else 200
                fresh = "{attachment_id}" not in template  # the shared case's attachment
                if template.startswith("/cases/{case_id}/") and 200 <= want < 300 and fresh:
                    target = await open_case(api)  # a command that succeeds gets its own case
            path = template.format(
                case_id=target,
                agreement_id="EU-UA",
                notification_id=notification_id,
                action="submit",
                name="app.css",
                asset="init.js",
                document="application",
                attachment_id=attached.json()["attachment_id"],
            )
            api.http.cookies.clear()  # only what this request sends counts
            if body is UPLOAD:
                files = {"file": ("scan.png", png(), "image/png")}
                answer = await api.http.request(
                    method, path, files=files, params=query, headers=headers
                )
            else:
                answer = await api.http.request(
                    method, path, json=body, params=query, headers=headers
                )
            where = f"{method} {template} as {caller}"
            if isinstance(expected, Page):
                mismatches += page_mismatches(where, expected, caller in PRINCIPALS, answer)
            else:
                mismatches += api_mismatches(where, want, answer)
    assert not mismatches, "\n".join(mismatches)
    state = await api.http.get(f"/cases/{case_id}", headers=api.as_("anna.pl", "officer", "PL"))
    assert state.json()["status"] == "draft"  # nothing in the matrix changed the shared case


def mint(monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> tuple[int, str, str]:
    """`readmit token ARGS` with the test's secret (or `env`) as the settings."""
    monkeypatch.setenv("READMIT_JWT_SECRET", SECRET)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    app = typer.Typer(pretty_exceptions_enable=False)
    app.callback()(lambda: None)  # a group, as in `readmit`, not a one-command app
    token.register(app)
    try:
        result = CliRunner().invoke(app, ["token", *args])
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.stdout.strip(), result.stderr


async def test_readmit_token_mints_what_the_api_accepts(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, minted, _ = mint(monkeypatch, "--user", "olena.ua", "--role", "officer", "--state", "ua")
    assert code == 0
    assert (await api.http.get("/inbox", headers={"Authorization": f"Bearer {minted}"})).is_success
    code, minted, _ = mint(monkeypatch, "--user", "a.x", "--role", "auditor", "--states", "PL,md")
    audit = await api.http.get("/audit/disclosures", headers={"Authorization": f"Bearer {minted}"})
    assert code == 0 and audit.status_code == 200
    for args, env, reason in (
        (("--user", "a.x", "--role", "auditor"), {}, "states"),
        (("--user", "a b", "--role", "officer", "--state", "PL"), {}, "sub"),
        (("--user", "a", "--role", "king", "--state", "PL"), {}, "--role"),
        (("--user", "a", "--role", "officer", "--state", "PL", "--ttl-minutes", "0"), {}, "ttl"),
        (
            ("--user", "a", "--role", "officer", "--state", "PL"),
            {"READMIT_JWT_ALGORITHMS": '["RS256"]'},
            "HS256",
        ),
    ):
        code, out, err = mint(monkeypatch, *args, **env)
        assert (code, out) == (2, ""), (args, err)
        assert err.startswith("readmit: ") and err.count("\n") == 1 and reason in err, err
