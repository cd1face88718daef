"""Who may call what: every endpoint of the app, called by every kind of caller, answers exactly
the status the table below says. A new endpoint without a row here fails the test.

The case under test is PL→UA (EU-UA), opened by the PL officer and still a draft, so the table
reads: requesting side = PL, requested side = UA, DE is a third state.

- no token, a garbage token, one signed with another key, one with `alg: none`, an expired one:
  401 everywhere except the public operations endpoints and the docs;
- a role that may not use an endpoint (auditors and admins writing, admins on the identity
  helpers and cases, non-auditors on the audit log): 403, before anything is looked up;
- an officer of the wrong side for a command: 403; an officer of a third state asking about the
  case: 404 (its existence is not disclosed);
- allowed commands reach the decider: 200 for what a draft allows (submit, withdraw; each on a
  fresh case), 409 for what it refuses.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
import pytest
from conftest import SECRET, Api
from fastapi.routing import iter_route_contexts

from api.app import create_app
from api.auth import issue_dev_token
from domain.identity.unzr import make_unzr
from readmit.settings import Settings

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
ADMIN_READS_A_CASE = 404

Row = dict[str, int]


def row(**by_caller: int) -> Row:
    """One expectation per principal (keys with spaces written with underscores, `_all` = *)."""
    table = {k.replace("_all", " *").replace("_", " "): v for k, v in by_caller.items()}
    assert set(table) == set(PRINCIPALS), sorted(set(PRINCIPALS) ^ set(table))
    return table


PUBLIC = {caller: 200 for caller in CALLERS}
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
READ_CASE = row(
    officer_PL=200, supervisor_PL=200, officer_UA=200, supervisor_UA=200,
    auditor_PL=200, auditor_all=200, admin_PL=ADMIN_READS_A_CASE, officer_DE=404,
)  # fmt: skip
REQUESTING_DRAFT_ALLOWS = row(
    officer_PL=200, supervisor_PL=200, officer_UA=403, supervisor_UA=403,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=404,
)  # fmt: skip
REQUESTING_DRAFT_REFUSES = row(
    officer_PL=409, supervisor_PL=409, officer_UA=403, supervisor_UA=403,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=404,
)  # fmt: skip
REQUESTED_DRAFT_REFUSES = row(
    officer_PL=403, supervisor_PL=403, officer_UA=409, supervisor_UA=409,
    auditor_PL=403, auditor_all=403, admin_PL=403, officer_DE=404,
)  # fmt: skip
IDENTITY = row(
    officer_PL=200, supervisor_PL=200, officer_UA=200, supervisor_UA=200,
    auditor_PL=200, auditor_all=200, admin_PL=403, officer_DE=200,
)  # fmt: skip
OWN_NOTIFICATION = row(  # the notification is in the UA officers' shared inbox
    officer_PL=404, supervisor_PL=404, officer_UA=200, supervisor_UA=404,
    auditor_PL=404, auditor_all=404, admin_PL=404, officer_DE=404,
)  # fmt: skip
AUDITORS = row(
    officer_PL=403, supervisor_PL=403, officer_UA=403, supervisor_UA=403,
    auditor_PL=200, auditor_all=200, admin_PL=403, officer_DE=403,
)  # fmt: skip

TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
OPEN = {
    "agreement": "EU-UA",
    "requested": "UA",
    "category": "own_national",
    "person": {"surname": "Shevchenko", "given_names": "Oleksandr", "birth_date": "1990-05-17"},
    "evidence": [{"kind": "passport", "number": "FA123456"}],
    "knowledge_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
}
REASONS = {"reasons": ["the matrix test"]}
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
MATRIX: dict[tuple[str, str], tuple[Row, Any, dict[str, str] | None]] = {
    ("GET", "/openapi.json"): (PUBLIC, None, None),
    ("GET", "/docs"): (PUBLIC, None, None),
    ("GET", "/docs/oauth2-redirect"): (PUBLIC, None, None),
    ("GET", "/redoc"): (PUBLIC, None, None),
    ("GET", "/health"): (PUBLIC, None, None),
    ("GET", "/ready"): (PUBLIC, None, None),
    ("GET", "/metrics"): (ANY_CALLER, None, None),
    ("POST", "/cases"): (OPEN_CASE, OPEN, None),
    ("GET", "/cases"): (LIST_CASES, None, None),
    ("GET", "/cases/{case_id}"): (READ_CASE, None, None),
    ("GET", "/cases/{case_id}/events"): (READ_CASE, None, None),
    ("GET", "/cases/{case_id}/state"): (READ_CASE, None, {"version": "1"}),
    ("GET", "/cases/{case_id}/verify"): (READ_CASE, None, None),
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
    ("POST", "/cases/{case_id}/transfer/complete"): (REQUESTING_DRAFT_REFUSES, {}, None),
    ("POST", "/cases/{case_id}/transfer/extension"): (
        REQUESTING_DRAFT_REFUSES,
        {"days": 5, **REASONS},
        None,
    ),
    ("POST", "/cases/{case_id}/error-claim"): (REQUESTED_DRAFT_REFUSES, REASONS, None),
    ("POST", "/cases/{case_id}/withdraw"): (REQUESTING_DRAFT_ALLOWS, REASONS, None),
    ("POST", "/cases/{case_id}/close"): (REQUESTING_DRAFT_REFUSES, {}, None),
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
    ("GET", "/inbox"): (ANY_CALLER, None, {"unread": "true"}),
    ("POST", "/inbox/{notification_id}/read"): (OWN_NOTIFICATION, None, None),
    ("GET", "/audit/disclosures"): (AUDITORS, None, None),
}


def app_endpoints() -> set[tuple[str, str]]:
    """(method, path) of every route of the app, included routers resolved."""
    app = create_app(Settings(jwt_secret=SECRET))
    found = set()
    for route in iter_route_contexts(app.routes):
        for method in route.methods or ():
            if method != "HEAD" and route.path is not None:
                found.add((method, route.path))
    documented = app.openapi()["paths"]
    found |= {(m.upper(), p) for p, ops in documented.items() for m in ops}
    return found


def test_every_endpoint_has_a_row() -> None:
    endpoints = app_endpoints()
    assert not endpoints - set(MATRIX), "endpoints missing from the access matrix"
    assert not set(MATRIX) - endpoints, "matrix rows for endpoints that no longer exist"


def anonymous_headers(kind: str) -> dict[str, str]:
    claims = {"sub": "anna.pl", "role": "officer", "state": "PL", "exp": int(time.time()) + 600}
    token = {
        "no token": None,
        "garbage token": "not-a-jwt",
        "foreign key": jwt.encode(claims, "another-secret-of-sufficient-length", algorithm="HS256"),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "expired token": issue_dev_token(
            SECRET,
            user="anna.pl",
            role="officer",
            state="PL",
            ttl_minutes=1,
            now=time.time() - 7200,
        ),
    }[kind]
    return {} if token is None else {"Authorization": f"Bearer {token}"}


async def open_case(api: Api) -> str:
    answer = await api.http.post("/cases", json=OPEN, headers=api.as_("anna.pl", "officer", "PL"))
    assert answer.status_code == 201, answer.text
    case_id: str = answer.json()["case_id"]
    return case_id


async def test_access_matrix(api: Api) -> None:
    case_id = await open_case(api)
    notification_id = await api.pool.fetchval(
        "INSERT INTO notifications (key, notice_key, case_id, recipient, state, role, channel,"
        " kind, subject, payload, status) VALUES ('m', 'm', $1, '@UA:officer', 'UA', 'officer',"
        " 'inbox', 'ApplicationSubmitted', 'subject', '{}', 'delivered') RETURNING id",
        case_id,
    )
    mismatches: list[str] = []
    for (method, template), (expected, body, query) in MATRIX.items():
        for caller in CALLERS:
            if caller in PRINCIPALS:
                headers = api.as_(*PRINCIPALS[caller])
                want = expected[caller]
            else:
                headers = anonymous_headers(caller)
                want = 200 if expected is PUBLIC else 401
            target = case_id
            if template.startswith("/cases/{case_id}/") and 200 <= want < 300 and method == "POST":
                target = await open_case(api)  # a command that succeeds gets a case of its own
            path = template.format(
                case_id=target, agreement_id="EU-UA", notification_id=notification_id
            )
            answer = await api.http.request(method, path, json=body, params=query, headers=headers)
            got = answer.status_code
            if got != want:
                mismatches.append(f"{method} {template} as {caller}: {got} (want {want})")
            if got in (401, 403, 404):
                problem = answer.headers.get("content-type", "")
                if not problem.startswith("application/problem+json"):
                    mismatches.append(f"{method} {template} as {caller}: {got} is not a problem")
            if got == 401 and answer.headers.get("www-authenticate") != "Bearer":
                mismatches.append(f"{method} {template} as {caller}: 401 without WWW-Authenticate")
    assert not mismatches, "\n".join(mismatches)
    state = await api.http.get(f"/cases/{case_id}", headers=api.as_("anna.pl", "officer", "PL"))
    assert state.json()["status"] == "draft"  # nothing in the matrix changed the shared case
