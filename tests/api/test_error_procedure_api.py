"""Readmission in error and the person's correction over HTTP: each step at its path by its side,
and every refusal a problem document (403 wrong side, 409 wrong status, 422 invalid content with
the rule quoted), never a 500; refused, withdrawn and returned cases close by themselves."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from api_harness import Api
from factories import application_body
from test_problems import answered, problem

pytestmark = pytest.mark.temporal

BCP = "Medyka-Shehyni"


async def opened(api: Api) -> str:
    now = await api.env.get_current_time()
    body = application_body(knowledge_at=(now - timedelta(days=1)).isoformat())
    answer = await api.http.post("/cases", json=body, headers=api.as_("anna.pl", "officer", "PL"))
    assert answer.status_code == 201, answer.text
    case_id: str = answer.json()["case_id"]
    return case_id


async def send(api: Api, case_id: str, path: str, who: dict[str, str], body: Any = None) -> Any:
    answer = await answered(api.http.post(f"/cases/{case_id}{path}", json=body or {}, headers=who))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def status_becomes(api: Api, case_id: str, status: str, who: dict[str, str]) -> Any:
    for _ in range(100):
        view = (await api.http.get(f"/cases/{case_id}", headers=who)).json()
        if view["status"] == status:
            return view
        await asyncio.sleep(0.1)
    pytest.fail(f"{case_id} stayed {view['status']}, never {status}")


async def test_readmission_in_error_over_http(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    case_id = await opened(api)
    await send(api, case_id, "/submit", anna)
    await send(api, case_id, "/accept", olena)
    on = (await api.env.get_current_time() + timedelta(days=2)).isoformat()
    await send(api, case_id, "/transfer", anna, {"on": on, "bcp": BCP, "mode": "land"})
    await api.env.sleep(2 * 86400)
    await send(api, case_id, "/transfer/complete", anna)

    claim = await send(api, case_id, "/error-claim", olena, {"reasons": ["not a national"]})
    assert claim["status"] == "error_claimed"
    view = (await api.http.get(f"/cases/{case_id}", headers=anna)).json()
    assert view["next_actions"] == ["accept_error_claim", "dispute_error_claim"]
    assert view["deadlines"]["error_answer"]["running"]
    assert view["error_claim"]["reasons"] == ["not a national"]
    assert (await api.http.get(f"/cases/{case_id}", headers=olena)).json()["next_actions"] == []

    # the wrong side: 403; the wrong status: 409 with the domain error and its rule
    wrong_side = await api.http.post(f"/cases/{case_id}/error-claim/accept", json={}, headers=olena)
    problem(wrong_side, 403)
    early = await api.http.post(f"/cases/{case_id}/return/complete", json={}, headers=olena)
    body = problem(early, 409)
    assert body["domain_error"] == "WrongStatus" and body["rule"] == "the case lifecycle"
    # invalid content: 422, field by field from the schema
    bare = await api.http.post(
        f"/cases/{case_id}/error-claim/dispute", json={"reasons": []}, headers=anna
    )
    assert {e["field"] for e in problem(bare, 422)["errors"]} == {"reasons"}
    extra = await api.http.post(
        f"/cases/{case_id}/error-claim/accept", json={"note": "x", "accept": True}, headers=anna
    )
    problem(extra, 422)

    await send(api, case_id, "/error-claim/accept", anna, {"note": "we take the person back"})
    later = (await api.env.get_current_time() + timedelta(days=3)).isoformat()
    nowhere = await api.http.post(
        f"/cases/{case_id}/return",
        json={"on": later, "bcp": "Nowhere", "mode": "land"},
        headers=olena,
    )
    body = problem(nowhere, 422)
    assert body["domain_error"] == "InvalidCommand" and "Nowhere" in body["detail"]
    assert body["rule"] == "well-formed command"
    by_rocket = await api.http.post(
        f"/cases/{case_id}/return", json={"on": later, "bcp": BCP, "mode": "rocket"}, headers=olena
    )
    assert "mode" in {e["field"] for e in problem(by_rocket, 422)["errors"]}
    too_late = (await api.env.get_current_time() + timedelta(days=200)).isoformat()
    beyond = await api.http.post(
        f"/cases/{case_id}/return", json={"on": too_late, "bcp": BCP, "mode": "land"}, headers=olena
    )
    body = problem(beyond, 409)
    assert body["domain_error"] == "ReturnNotAllowed" and "return limit" in body["rule"]

    plan = {"on": later, "bcp": BCP, "mode": "land", "escorts": 2}
    assert (await send(api, case_id, "/return", olena, plan))["status"] == "return_scheduled"
    await api.env.sleep(3 * 86400)
    done = await send(api, case_id, "/return/complete", olena)
    assert done["status"] == "returned_in_error"
    view = await status_becomes(api, case_id, "closed", anna)
    assert view["error_claim"]["returned_at"] and view["error_claim"]["return"]["escorts"] == 2
    # once closed, a command is refused as such, not as a missing case
    after = await api.http.post(f"/cases/{case_id}/close", json={}, headers=anna)
    assert problem(after, 409)["domain_error"] == "CaseClosedError"
    history = (await api.http.get(f"/cases/{case_id}/events", headers=anna)).json()["events"]
    closing = history[-1]
    assert closing["type"] == "CaseClosed" and closing["actor"]["role"] == "system"


async def test_a_withdrawn_case_closes_by_itself_and_its_list_row_says_so(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    case_id = await opened(api)
    await send(api, case_id, "/withdraw", anna, {"reasons": ["left voluntarily"]})
    view = await status_becomes(api, case_id, "closed", anna)
    assert view["closed_at"] is not None
    await api.services.projector.catch_up()
    listed = (await api.http.get("/cases", params={"status": "closed"}, headers=anna)).json()
    assert case_id in [c["case_id"] for c in listed["items"]]


async def test_amending_the_person_over_http(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    case_id = await opened(api)
    person = {"surname": "Shevchenko", "given_names": "Oleksandr", "birth_date": "1990-05-18"}
    bad = await api.http.post(
        f"/cases/{case_id}/person",
        json={"person": {**person, "birth_date": "18.05.1990"}},
        headers=anna,
    )
    assert "person.birth_date" in {e["field"] for e in problem(bad, 422)["errors"]}
    # the requested state does not see a draft at all; once it is submitted, not its side
    amend = f"/cases/{case_id}/person"
    problem(await api.http.post(amend, json={"person": person}, headers=olena), 404)
    sealed = {"person": {"sealed": "v1.AAAAAAAAAAAAAAAAAAAAAAAA"}}
    problem(await api.http.post(f"/cases/{case_id}/person", json=sealed, headers=anna), 422)
    await send(api, case_id, "/submit", anna)
    problem(await api.http.post(amend, json={"person": person}, headers=olena), 403)
    answer = await send(api, case_id, "/person", anna, {"person": person})
    assert [e["type"] for e in answer["events"]] == ["PersonAmended"]
    view = (await api.http.get(f"/cases/{case_id}", headers=anna)).json()
    assert view["person"]["birth_date"] == "1990-05-18" and len(view["person_amended_at"]) == 1
    stored = (await api.http.get(f"/cases/{case_id}/events", headers=anna)).json()["events"]
    assert "1990-05-18" not in str([e["data"] for e in stored])
    # the auditor's replay shows the person as it applied at each version
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    amended = next(e["version"] for e in stored if e["type"] == "PersonAmended")
    before = await api.http.get(
        f"/cases/{case_id}/state", params={"version": amended - 1}, headers=auditor
    )
    assert before.json()["state"]["person"]["birth_date"] == "1990-05-17"
    assert before.json()["state"]["person_amended_at"] == []
    now = await api.http.get(
        f"/cases/{case_id}/state", params={"version": amended}, headers=auditor
    )
    assert now.json()["state"]["person"]["birth_date"] == "1990-05-18"


async def test_every_new_command_before_a_transfer_is_a_problem_never_a_500(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    case_id = await opened(api)
    await send(api, case_id, "/submit", anna)  # received: the requested state sees it now
    on = (await api.env.get_current_time() + timedelta(days=2)).isoformat()
    for path, who, body in (
        ("/error-claim/accept", anna, {}),
        ("/error-claim/dispute", anna, {"reasons": ["x"]}),
        ("/return", olena, {"on": on, "bcp": BCP, "mode": "land"}),
        ("/return/complete", olena, {}),
    ):
        answer: httpx.Response = await answered(
            api.http.post(f"/cases/{case_id}{path}", json=body, headers=who)
        )
        assert problem(answer, 409)["domain_error"] == "WrongStatus", path
