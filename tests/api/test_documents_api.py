"""`GET /cases/{id}/documents/<name>.pdf` over HTTP: the PDF for a caller who may see the case,
with the name in both scripts and an attachment's file name; 409 (problem+json) for a document
the case has not reached or a case whose personal data was erased; 404 for a case the caller
may not see; 403 for an administrator; each download in the disclosure log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from api_harness import Api
from factories import application_body
from pypdf import PdfReader

from adapters.protection.vault import PersonalDataVault

pytestmark = pytest.mark.temporal


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


async def open_submitted(api: Api) -> str:
    anna = api.as_("anna.pl", "officer", "PL")
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    opened = await api.http.post(
        "/cases", json=application_body(knowledge_at=knowledge), headers=anna
    )
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    assert (await api.http.post(f"/cases/{case_id}/submit", json={}, headers=anna)).is_success
    return case_id


def problem(answer: object, status: int, type_: str) -> None:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    assert answer.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    assert answer.json()["type"].endswith(type_)  # type: ignore[attr-defined]


async def test_the_application_downloads_with_the_name_in_both_scripts(api: Api) -> None:
    case_id = await open_submitted(api)
    path = f"/cases/{case_id}/documents/application.pdf"
    for who in (
        api.as_("anna.pl", "officer", "PL"),
        api.as_("olena.ua", "officer", "UA"),
        api.as_("audit.pl", "auditor", None, ("PL",)),
    ):
        answer = await api.http.get(path, headers=who)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        disposition = answer.headers["content-disposition"]
        assert disposition == f'attachment; filename="{case_id}-application.pdf"'
        assert answer.headers["cache-control"] == "no-store"
        text = text_of(answer.content)
        assert "SHEVCHENKO Oleksandr" in text and "ШЕВЧЕНКО Олександр" in text
        assert case_id in text
    rows = await api.pool.fetch(
        "SELECT user_id, purpose, endpoint, fields FROM disclosure_log WHERE case_id = $1"
        " AND purpose LIKE 'document%' ORDER BY id",
        case_id,
    )
    assert [(r["user_id"], r["purpose"]) for r in rows] == [
        ("anna.pl", "document application"),
        ("olena.ua", "document application"),
        ("audit.pl", "document application"),
    ]
    assert rows[0]["endpoint"] == "GET /cases/{id}/documents/application.pdf"
    assert list(rows[0]["fields"]) == ["person", "evidence"]


async def test_documents_the_case_has_not_reached_answer_409_and_log_nothing(api: Api) -> None:
    case_id = await open_submitted(api)
    anna = api.as_("anna.pl", "officer", "PL")
    for name in ("reply", "transfer-notice", "transit-application"):
        answer = await api.http.get(f"/cases/{case_id}/documents/{name}.pdf", headers=anna)
        problem(answer, 409, "document-unavailable")
    logged = await api.pool.fetchval(
        "SELECT count(*) FROM disclosure_log WHERE case_id = $1 AND purpose LIKE 'document%'",
        case_id,
    )
    assert logged == 0
    olena = api.as_("olena.ua", "officer", "UA")
    assert (await api.http.post(f"/cases/{case_id}/accept", json={}, headers=olena)).is_success
    reply = await api.http.get(f"/cases/{case_id}/documents/reply.pdf", headers=anna)
    assert reply.status_code == 200, reply.text
    assert "Клопотання задоволено." in text_of(reply.content)
    fields = await api.pool.fetchval(
        "SELECT fields FROM disclosure_log WHERE case_id = $1 AND purpose = 'document reply'",
        case_id,
    )
    assert list(fields) == ["person", "reasons"]


async def test_other_states_and_administrators_get_no_document(api: Api) -> None:
    case_id = await open_submitted(api)
    path = f"/cases/{case_id}/documents/application.pdf"
    problem(await api.http.get(path, headers=api.as_("hans.de", "officer", "DE")), 404, "not-found")
    admin = api.as_("root.pl", "admin", "PL")
    assert (await api.http.get(path, headers=admin)).status_code == 403
    missing = "/cases/PL-UA-2027-999999/documents/application.pdf"
    anna = api.as_("anna.pl", "officer", "PL")
    problem(await api.http.get(missing, headers=anna), 404, "not-found")
    assert (await api.http.get(path)).status_code == 401


async def test_an_erased_case_prints_no_document(api: Api, vault: PersonalDataVault) -> None:
    case_id = await open_submitted(api)
    assert await vault.erase([case_id], datetime.now(UTC), "test: erasure") == [case_id]
    answer = await api.http.get(
        f"/cases/{case_id}/documents/application.pdf", headers=api.as_("anna.pl", "officer", "PL")
    )
    problem(answer, 409, "document-unavailable")
    assert "erased" in answer.json()["detail"]
