"""A transit case over HTTP: AT asks MD to let a third-country national pass to GE. Refusals
come out as problem+json (409 wrong status or kind, 422 invalid content with the rule quoted),
never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_harness import Api

pytestmark = pytest.mark.temporal


def transit_body(planned: datetime, **changes: Any) -> dict[str, Any]:
    return {
        "agreement": "EU-MD",
        "requested": "MD",
        "category": "third_country_national",
        "kind": "transit",
        "person": {"surname": "Beridze", "given_names": "Nino", "birth_date": "1991-03-02"},
        "transit": {
            "destination": "GE",
            "assurance": {"reference": "GE-MIA-2027/118", "given_on": "2026-01-05"},
            "planned_at": planned.isoformat(),
            "entry_point": "Chișinău International Airport",
            "exit_point": "Chișinău International Airport",
            "escorts": 2,
            "flight": {"number": "9U 171"},
        },
        **changes,
    }


async def open_transit(api: Api, who: dict[str, str], planned: datetime) -> str:
    opened = await api.http.post("/cases", json=transit_body(planned), headers=who)
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    return case_id


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    return body


async def test_a_transit_case_from_request_to_taking_back(api: Api) -> None:
    anna = api.as_("anna.at", "officer", "AT")
    maria = api.as_("maria.md", "officer", "MD")
    now = datetime.now(UTC)
    case_id = await open_transit(api, anna, now + timedelta(days=14))
    assert case_id.startswith("AT-MD-")

    async def post(path: str, who: dict[str, str], body: dict[str, Any] | None = None) -> Any:
        answer = await api.http.post(f"/cases/{case_id}{path}", json=body or {}, headers=who)
        assert answer.status_code == 200, answer.text
        return answer.json()

    # a transit command before its time, and a readmission command: 409
    early = await api.http.post(
        f"/cases/{case_id}/transit/schedule",
        json={
            "on": (now + timedelta(days=14)).isoformat(),
            "entry_point": "KIV",
            "exit_point": "KIV",
        },
        headers=anna,
    )
    assert problem(early, 409)["domain_error"] == "WrongStatus"
    await post("/submit", anna)
    back = await api.http.post(f"/cases/{case_id}/transit/take-back", json={}, headers=anna)
    assert problem(back, 409)["domain_error"] == "WrongStatus"
    wrong = await api.http.post(f"/cases/{case_id}/accept", json={}, headers=maria)
    body = problem(wrong, 409)
    assert body["domain_error"] == "WrongCaseKind"
    assert body["rule"] == "each kind of case takes its own commands"

    view = (await api.http.get(f"/cases/{case_id}", headers=maria)).json()
    assert view["kind"] == "transit" and view["status"] == "received"
    assert view["transit"]["request"]["destination"] == "GE"
    assert view["transit"]["lead"]["request_lead_working_days"] == 4
    assert view["deadlines"]["transit_reply"]["running"]
    assert view["next_actions"][:2] == ["consent_transit", "refuse_transit"]

    listed = (await api.http.get("/cases", params={"kind": "transit"}, headers=maria)).json()
    assert [(c["case_id"], c["kind"], c["waiting_for"]) for c in listed["items"]] == [
        (case_id, "transit", "requested")
    ]
    others = (await api.http.get("/cases", params={"kind": "readmission"}, headers=maria)).json()
    assert others["items"] == []

    refusal = await api.http.post(f"/cases/{case_id}/transit/refuse", json={}, headers=maria)
    assert problem(refusal, 422)["errors"][0]["field"] == "reasons"
    assert (await post("/transit/consent", maria, {"note": "agreed"}))["status"] == "consented"
    schedule = {
        "on": (now + timedelta(days=14)).isoformat(),
        "entry_point": "Chișinău International Airport",
        "exit_point": "Chișinău International Airport",
        "escorts": 2,
        "flight": {"number": "9U 171"},
    }
    forward = await api.http.post(
        f"/cases/{case_id}/transit/schedule",
        json={**schedule, "on": (now + timedelta(days=13)).isoformat()},
        headers=anna,
    )
    assert problem(forward, 409)["domain_error"] == "TransitNotAllowed"
    assert (await post("/transit/schedule", anna, schedule))["status"] == "transit_scheduled"
    await api.env.sleep(14 * 86400 + 3600)
    await post("/transit/complete", maria)
    failed = await post(
        "/transit/failure", maria, {"reasons": ["GE refused entry"], "entry_refused": True}
    )
    assert failed["status"] == "transit_failed"
    not_yet = await api.http.post(f"/cases/{case_id}/close", json={}, headers=anna)
    assert problem(not_yet, 409)["domain_error"] == "WrongStatus"
    assert (await post("/transit/take-back", anna))["status"] == "taken_back"
    # nothing more can happen: the case closes by itself, and a close by hand is refused
    closed = (await api.http.get(f"/cases/{case_id}", headers=anna)).json()
    assert closed["status"] == "closed"
    again = await api.http.post(f"/cases/{case_id}/close", json={}, headers=anna)
    assert problem(again, 409)["domain_error"] == "CaseClosedError"
    events = (await api.http.get(f"/cases/{case_id}/events", headers=anna)).json()["events"]
    assert events[0]["data"]["kind"] == "transit"


async def test_a_request_too_close_to_its_transit_is_422_with_the_rule(api: Api) -> None:
    anna = api.as_("anna.at", "officer", "AT")
    case_id = await open_transit(api, anna, datetime.now(UTC) + timedelta(days=1))
    answer = await api.http.post(f"/cases/{case_id}/submit", json={}, headers=anna)
    body = problem(answer, 422)
    assert body["domain_error"] == "TransitLeadTooShort"
    assert body["rule"].startswith("a transit is requested at least 4 working days before")
    assert "AT-MD protocol" in body["rule"]


@pytest.mark.parametrize(
    ("changes", "status", "says"),
    [
        ({"category": "own_national"}, 422, "not for a national of the requested state"),
        ({"transit": None}, 422, "needs its request"),
    ],
)
async def test_an_invalid_transit_request_is_422(
    api: Api, changes: dict[str, Any], status: int, says: str
) -> None:
    anna = api.as_("anna.at", "officer", "AT")
    body = transit_body(datetime.now(UTC) + timedelta(days=14), **changes)
    answer = await api.http.post("/cases", json=body, headers=anna)
    found = problem(answer, status)
    assert says in found["detail"] and found["domain_error"] == "TransitRequestInvalid"
    assert "third-country national or stateless person" in found["rule"]


async def test_a_malformed_transit_request_is_422_by_field(api: Api) -> None:
    anna = api.as_("anna.at", "officer", "AT")
    body = transit_body(datetime.now(UTC) + timedelta(days=14))
    body["transit"]["destination"] = "Georgia"
    body["transit"]["escorts"] = 99
    found = problem(await api.http.post("/cases", json=body, headers=anna), 422)
    assert {e["field"] for e in found["errors"]} == {"transit.destination", "transit.escorts"}
