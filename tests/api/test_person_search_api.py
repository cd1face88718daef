"""`POST /search/persons` and the earlier-cases warning on opening, over the API: any spelling
finds the person, results are scored with reasons and scoped like `GET /cases` (another state
sees a case only once disclosed to it), every answer naming cases is in the disclosure log, and
bad input is problem+json 422 that records nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_harness import Api
from factories import application_body

pytestmark = pytest.mark.temporal

KNOWN = (datetime.now(UTC) - timedelta(days=1)).isoformat()
SHEVCHENKO = {"surname": "Шевченко", "given_names": "Олександр", "birth_date": "1990-05-17"}
BONDAR = {"surname": "Bondar", "given_names": "Iryna", "birth_date": "1985-02-03"}


async def open_case(api: Api, person: dict[str, str], number: str) -> dict[str, Any]:
    body = application_body(
        knowledge_at=KNOWN, person=person, evidence=[{"kind": "passport", "number": number}]
    )
    answer = await api.http.post("/cases", json=body, headers=api.as_("anna.pl", "officer", "PL"))
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def search(api: Api, caller: dict[str, str], **criteria: Any) -> list[dict[str, Any]]:
    answer = await api.http.post("/search/persons", json=criteria, headers=caller)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    return body


async def test_search_and_the_warning_on_opening(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    first = await open_case(api, SHEVCHENKO, "FA123456")
    assert first["earlier_cases"] == []
    other = await open_case(api, BONDAR, "EK000111")
    assert other["earlier_cases"] == []

    # the same man again, spelt from his Latin passport, another passport number
    latin = {"surname": "Shevchenko", "given_names": "Oleksandr", "birth_date": "1990-05-17"}
    second = await open_case(api, latin, "FB765432")
    assert [(e["case_id"], e["reasons"]) for e in second["earlier_cases"]] == [
        (first["case_id"], ["surname", "birth_date"])
    ]
    assert second["earlier_cases"][0]["status"] == "draft"
    # a different name and birth date, but the first case's passport: the same person
    third = await open_case(
        api, {"surname": "Kowal", "given_names": "Jan", "birth_date": "1970-01-01"}, "fa 123456"
    )
    assert [(e["case_id"], e["reasons"]) for e in third["earlier_cases"]] == [
        (first["case_id"], ["document_number"])
    ]

    found = await search(api, anna, surname="SCHEWTSCHENKO", birth_date="1990-05-17")
    assert {i["case_id"] for i in found} == {first["case_id"], second["case_id"]}
    assert all(i["score"] == 1.0 and i["reasons"] == ["surname", "birth_date"] for i in found)
    assert found[0]["person"].startswith("SHEVCHENKO") or found[0]["person"].startswith("ШЕВ")

    ranked = await search(api, anna, surname="Shevchenko", document_number="FA-123456")
    assert ranked[0]["case_id"] == first["case_id"]
    assert ranked[0]["reasons"] == ["surname", "document_number"]
    assert ranked[0]["score"] > ranked[1]["score"] > 0

    similar = await search(api, anna, given_names="Aleksandr")
    assert {i["case_id"] for i in similar} == {first["case_id"], second["case_id"]}
    assert similar[0]["reasons"] == ["given_names~"] and similar[0]["score"] < 1

    shown = await api.pool.fetch(
        "SELECT case_ids, purpose, endpoint FROM disclosure_log"
        " WHERE purpose IN ('person search', 'earlier applications') ORDER BY id"
    )
    assert [r["purpose"] for r in shown][:2] == ["earlier applications", "earlier applications"]
    searched = [r for r in shown if r["purpose"] == "person search"]
    assert len(searched) == 3 and searched[0]["endpoint"] == "POST /search/persons"
    assert set(searched[0]["case_ids"]) == {first["case_id"], second["case_id"]}


async def test_search_is_scoped_like_the_case_list(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    hans = api.as_("hans.de", "officer", "DE")
    first = await open_case(api, SHEVCHENKO, "FA123456")
    await open_case(api, SHEVCHENKO, "FA123456")
    criteria = {"surname": "Shevchenko", "birth_date": "1990-05-17"}

    assert await search(api, olena, **criteria) == []  # drafts are not disclosed to UA
    assert await search(api, hans, **criteria) == []
    submitted = await api.http.post(f"/cases/{first['case_id']}/submit", json={}, headers=anna)
    assert submitted.status_code == 200, submitted.text
    assert [i["case_id"] for i in await search(api, olena, **criteria)] == [first["case_id"]]
    assert await search(api, hans, **criteria) == []
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    assert len(await search(api, auditor, **criteria)) == 2
    everyone = api.as_("audit.eu", "auditor", None, ("*",))
    assert len(await search(api, everyone, **criteria)) == 2
    admin = problem(
        await api.http.post(
            "/search/persons", json=criteria, headers=api.as_("root.pl", "admin", "PL")
        ),
        403,
    )
    assert "administrators" in admin["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"limit": 5},
        {"surname": "12345"},
        {"document_number": "--"},
        {"surname": ""},
        {"birth_date": "17.05.1990"},
        {"surname": "Shevchenko", "middle_name": "x"},
        {"surname": "Shevchenko", "limit": 0},
        {"document_number": "FA123456;DROP"},
    ],
)
async def test_bad_searches_are_refused_and_record_nothing(api: Api, body: dict[str, Any]) -> None:
    await open_case(api, SHEVCHENKO, "FA123456")
    before = await api.pool.fetchval("SELECT count(*) FROM disclosure_log")
    answer = await api.http.post(
        "/search/persons", json=body, headers=api.as_("anna.pl", "officer", "PL")
    )
    assert problem(answer, 422)["status"] == 422
    assert "Shevchenko" not in answer.text or "Shevchenko" in str(body)
    assert await api.pool.fetchval("SELECT count(*) FROM disclosure_log") == before


async def test_a_search_needs_a_token(api: Api) -> None:
    answer = await api.http.post("/search/persons", json={"surname": "Shevchenko"})
    assert answer.status_code == 401


async def test_an_erased_case_is_found_no_more(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    first = await open_case(api, SHEVCHENKO, "FA123456")
    criteria = {"surname": "Shevchenko", "document_number": "FA123456"}
    assert [i["case_id"] for i in await search(api, anna, **criteria)] == [first["case_id"]]
    await api.services.vault.erase([first["case_id"]], datetime.now(UTC), "test: erased")
    assert await search(api, anna, **criteria) == []
    again = await open_case(api, SHEVCHENKO, "FA123456")
    assert again["earlier_cases"] == []  # nothing left to recognise the person by
    page = await api.http.get(
        f"/ui/cases/{again['case_id']}",
        headers={"Cookie": f"readmit_session={await api.session('anna.pl', 'officer', 'PL')}"},
    )
    assert page.status_code == 200 and 'id="earlier-cases"' not in page.text
