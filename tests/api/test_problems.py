"""Bad requests get a 4xx problem document that says what is wrong, never a 500, and change
nothing: malformed or mistyped JSON, unknown fields, bodies over the cap, bytes that are not
UTF-8, injection-looking strings, bad case ids and cursors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from api_harness import Api
from factories import application_body
from structlog.testing import capture_logs

pytestmark = pytest.mark.temporal

INJECTIONS = ("'; DROP TABLE cases; --", "<script>alert(1)</script>", "1 OR 1=1", "${jndi:x}")
OPEN = application_body(knowledge_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
TABLES = ("cases", "case_events", "notifications", "idempotency_keys")


@pytest.fixture
async def case_id(api: Api) -> str:
    opened = await api.http.post("/cases", json=OPEN, headers=api.as_("anna.pl", "officer", "PL"))
    assert opened.status_code == 201, opened.text
    found: str = opened.json()["case_id"]
    return found


async def counts(api: Api) -> dict[str, int]:
    return {t: await api.pool.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}


def problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    """The answer is a problem document with this status and something to read in it."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.headers
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["title"]
    assert body.get("detail") or body.get("errors"), body
    return body


async def answered(request: Awaitable[httpx.Response]) -> httpx.Response:
    """The answer, or a plain failure when the app raised (it answered 500)."""
    try:
        with capture_logs():  # the app logs the error with its locals: slow to render
            return await request
    except Exception as error:
        pytest.fail(f"the app raised {type(error).__name__} (500)", pytrace=False)


def fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


async def test_malformed_and_mistyped_bodies(api: Api, case_id: str) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    json_headers = {**anna, "Content-Type": "application/json"}
    before = await counts(api)

    truncated = await api.http.post(
        "/cases", content=b'{"agreement": "EU-UA", ', headers=json_headers
    )
    body = problem(truncated, 422)
    assert body["errors"][0]["type"] == "json_invalid"

    wrong = {**OPEN, "person": 5, "evidence": "passport", "procedure": ["standard"]}
    body = problem(await api.http.post("/cases", json=wrong, headers=anna), 422)
    assert {"person", "evidence", "procedure"} <= fields(body)

    unknown = {**OPEN, "role": "admin", "person": {**OPEN["person"], "is_admin": True}}
    body = problem(await api.http.post("/cases", json=unknown, headers=anna), 422)
    assert {"role", "person.is_admin"} <= fields(body)
    assert {e["type"] for e in body["errors"]} == {"extra_forbidden"}

    not_json = await api.http.post("/cases", content=b"agreement=EU-UA", headers=anna)
    problem(not_json, 422)
    array = await api.http.post(f"/cases/{case_id}/refuse", json=["x"], headers=anna)
    problem(array, 422)
    empty = await api.http.post(f"/cases/{case_id}/refuse", json={"reasons": []}, headers=anna)
    assert "reasons" in fields(problem(empty, 422))
    score = {"status": "confirmed", "score": "lots"}
    verification = await api.http.post(f"/cases/{case_id}/verification", json=score, headers=anna)
    assert "score" in fields(problem(verification, 422))
    match = await api.http.post("/identity/match", json={"a": 1, "b": None}, headers=anna)
    assert {"a", "b"} <= fields(problem(match, 422))
    assert await counts(api) == before


async def test_bodies_over_the_cap_are_refused_before_reading(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    before = await counts(api)
    huge = {**OPEN, "person": {**OPEN["person"], "surname": "A" * (5 * 1024 * 1024)}}
    body = problem(await api.http.post("/cases", json=huge, headers=anna), 413)
    assert "exceeds" in body["detail"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        yield b'{"a": "'
        for _ in range(5 * 16):
            yield b"x" * 65536
        yield b'", "b": "y"}'

    streamed = await api.http.post(
        "/identity/match", content=chunks(), headers={**anna, "Content-Type": "application/json"}
    )
    problem(streamed, 413)
    small = await api.http.post("/identity/match", json={"a": "Ann", "b": "Anne"}, headers=anna)
    assert small.status_code == 200
    assert await counts(api) == before


async def test_bytes_that_are_not_utf8(api: Api, case_id: str) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    json_headers = {**anna, "Content-Type": "application/json"}
    before = await counts(api)
    for path, raw in (
        ("/identity/match", b'{"a": "\xff\xfe\xfd", "b": "x"}'),
        ("/cases", b'{"agreement": "EU-\xc3\x28"}'),
        (f"/cases/{case_id}/withdraw", b'{"reasons": ["\xed\xa0\x80"]}'),
    ):
        answer = await api.http.post(path, content=raw, headers=json_headers)
        assert 400 <= answer.status_code < 500, answer.text
        problem(answer, answer.status_code)
    assert await counts(api) == before


async def test_injection_looking_strings_are_data_or_refused(api: Api, case_id: str) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    auditor = api.as_("audit.all", "auditor", None, ("*",))
    before = await counts(api)
    for text in INJECTIONS:
        refused = [
            await api.http.get("/cases", params={"q": text}, headers=anna),
            await api.http.get("/cases", params={"status": text, "agreement": text}, headers=anna),
            await api.http.get(f"/cases/{text}", headers=anna),
            await api.http.get(f"/agreements/{text}", headers=anna),
            await api.http.get(
                "/agreements/EU-UA/deadlines",
                params={"limit": text, "requesting": "PL", "requested": "UA", "from": text},
                headers=anna,
            ),
            await api.http.get("/inbox", params={"cursor": text}, headers=anna),
            await api.http.get("/audit/disclosures", params={"case_id": text}, headers=auditor),
            await api.http.post("/cases", json={**OPEN, "requested": text}, headers=anna),
            await api.http.post(
                "/cases",
                json={**OPEN, "agreement": text},
                headers={**anna, "Idempotency-Key": text},
            ),
        ]
        for answer in refused:
            assert 400 <= answer.status_code < 500, (answer.request.url, answer.text)
            problem(answer, answer.status_code)
        # Where free text is allowed, such strings are only data.
        match = await api.http.post("/identity/match", json={"a": text, "b": text}, headers=anna)
        assert match.status_code == 200, match.text
    listed = await api.http.get("/cases", params={"status": "draft"}, headers=anna)
    assert [c["case_id"] for c in listed.json()["items"]] == [case_id]
    assert await counts(api) == before


async def test_bad_case_ids_cursors_and_methods(api: Api, case_id: str) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    before = await counts(api)
    for bad in ("PL-UA-2027-12", "pl-ua-2027-000001", "PL-UA-2027-0000001", "PL UA", "%00"):
        answer = await api.http.get(f"/cases/{bad}", headers=anna)
        assert answer.status_code in (404, 422), answer.text
        problem(answer, answer.status_code)
    absent = "PL-UA-1999-999999"
    assert "no case" in problem(await api.http.get(f"/cases/{absent}", headers=anna), 404)["detail"]
    problem(await api.http.post(f"/cases/{absent}/submit", json={}, headers=anna), 404)
    problem(await api.http.get("/cases", params={"cursor": "not-a-cursor"}, headers=anna), 422)
    problem(await api.http.get("/cases", params={"cursor": "A" * 401}, headers=anna), 422)
    problem(await api.http.get("/inbox", params={"cursor": "0"}, headers=anna), 422)
    problem(await api.http.get("/inbox", params={"limit": 0}, headers=anna), 422)
    problem(await api.http.post("/inbox/0/read", headers=anna), 422)
    problem(await api.http.post(f"/inbox/{2**63}/read", headers=anna), 422)
    both = {"as_of": datetime.now(UTC).isoformat(), "version": 1}
    problem(await api.http.get(f"/cases/{case_id}/state", params=both, headers=anna), 422)
    problem(await api.http.delete(f"/cases/{case_id}", headers=anna), 405)
    problem(await api.http.get("/no-such-endpoint", headers=anna), 404)
    assert await counts(api) == before


async def test_state_version_beyond_int4(api: Api, case_id: str) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    problem(
        await answered(
            api.http.get(f"/cases/{case_id}/state", params={"version": 2**31}, headers=anna)
        ),
        422,
    )


async def test_blank_short_texts_in_commands(api: Api, case_id: str) -> None:
    olena = api.as_("olena.ua", "officer", "UA")
    answer = api.http.post(f"/cases/{case_id}/accept", json={"note": " "}, headers=olena)
    problem(await answered(answer), 422)


async def test_case_list_status_with_a_nul(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    problem(await answered(api.http.get("/cases", params={"status": "\x00"}, headers=anna)), 422)


async def test_control_characters_in_personal_data_are_refused_at_once(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    person = {**OPEN["person"], "surname": "Shev\x00chenko"}
    before = await counts(api)
    answer = await answered(api.http.post("/cases", json={**OPEN, "person": person}, headers=anna))
    problem(answer, 422)
    assert await counts(api) == before
