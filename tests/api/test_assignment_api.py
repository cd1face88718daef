"""Assignment over the API: an officer claims and releases their side of a case, a supervisor
assigns or reassigns it to an officer of their own state (checked against the directory), and
lists filter by the caller's side's assignee. Every change is one `CaseAssigned` event whose
actor is the caller; a refused one changes nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_harness import Api
from factories import application_body

pytestmark = pytest.mark.temporal

OPEN = application_body(knowledge_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
DIRECTORY = (
    ("anna.pl", "PL", "officer"),
    ("marek.pl", "PL", "officer"),
    ("piotr.pl", "PL", "supervisor"),
    ("audit.pl", "PL", "auditor"),
    ("olena.ua", "UA", "officer"),
    ("taras.ua", "UA", "supervisor"),
)


async def directory(api: Api) -> None:
    await api.pool.executemany(
        "INSERT INTO officers (user_id, state, role, display_name) VALUES ($1, $2, $3, $1)",
        DIRECTORY,
    )


async def submitted_case(api: Api) -> str:
    anna = api.as_("anna.pl", "officer", "PL")
    opened = await api.http.post("/cases", json=OPEN, headers=anna)
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    answer = await api.http.post(f"/cases/{case_id}/submit", json={}, headers=anna)
    assert answer.status_code == 200, answer.text
    return case_id


async def assignees(api: Api, case_id: str, caller: dict[str, str]) -> dict[str, Any]:
    answer = await api.http.get(f"/cases/{case_id}", headers=caller)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["assignees"]
    return found


async def assignments(api: Api, case_id: str) -> list[tuple[str, str | None, str]]:
    """(side, assignee, actor) of each `CaseAssigned` event of the case, in order."""
    rows = await api.pool.fetch(
        "SELECT data, metadata FROM case_events WHERE stream_id = $1 AND type = 'CaseAssigned'"
        " ORDER BY version",
        case_id,
    )

    found = []
    for row in rows:
        data, meta = (json.loads(v) if isinstance(v, str) else v for v in row)
        found.append((data["side"], data["assignee"], meta["actor"]))
    return found


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    return body


async def test_claim_release_and_assign_each_side(api: Api) -> None:
    await directory(api)
    case_id = await submitted_case(api)
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    piotr = api.as_("piotr.pl", "supervisor", "PL")

    assert await assignees(api, case_id, anna) == {"requesting": None, "requested": None}
    claimed = await api.http.post(f"/cases/{case_id}/claim", json={}, headers=anna)
    assert claimed.status_code == 200, claimed.text
    assert [e["type"] for e in claimed.json()["events"]] == ["CaseAssigned"]
    assert claimed.json()["status"] == "received"  # who works on it, not what happens to it
    answer = await api.http.post(f"/cases/{case_id}/claim", json={}, headers=olena)
    assert answer.status_code == 200, answer.text
    assert await assignees(api, case_id, anna) == {"requesting": "anna.pl", "requested": "olena.ua"}

    # a supervisor reassigns PL's side; the former assignee may no longer release it
    answer = await api.http.post(
        f"/cases/{case_id}/assign", json={"officer": "marek.pl"}, headers=piotr
    )
    assert answer.status_code == 200, answer.text
    refused = problem(await api.http.post(f"/cases/{case_id}/release", json={}, headers=anna), 409)
    assert refused["domain_error"] == "NotAssigned"
    assert "assigned to marek.pl" in refused["detail"]
    marek = api.as_("marek.pl", "officer", "PL")
    answer = await api.http.post(f"/cases/{case_id}/release", json={}, headers=marek)
    assert answer.status_code == 200, answer.text
    assert await assignees(api, case_id, olena) == {"requesting": None, "requested": "olena.ua"}

    assert await assignments(api, case_id) == [
        ("requesting", "anna.pl", "anna.pl"),
        ("requested", "olena.ua", "olena.ua"),
        ("requesting", "marek.pl", "piotr.pl"),
        ("requesting", None, "marek.pl"),
    ]
    # assignment is no move the case waits for
    shown = (await api.http.get(f"/cases/{case_id}", headers=anna)).json()
    assert not {"claim_case", "release_case", "assign_case"} & set(shown["next_actions"])
    # the case's page shows its history, assignments included, and offers them in its own
    # "Assignment" section (tests/web/test_web_assignment.py), not among the case's next moves
    cookie = await api.session("anna.pl", "officer", "PL")
    page = await api.http.get(
        f"/ui/cases/{case_id}", headers={"Cookie": f"readmit_session={cookie}"}
    )
    assert page.status_code == 200, page.text
    section = page.text.split('id="assignment"', 1)[1]
    assert "/actions/claim_case" in section and 'id="action-claim_case-heading"' not in page.text


async def test_refusals_change_nothing(api: Api) -> None:
    await directory(api)
    case_id = await submitted_case(api)
    anna = api.as_("anna.pl", "officer", "PL")
    marek = api.as_("marek.pl", "officer", "PL")
    piotr = api.as_("piotr.pl", "supervisor", "PL")
    assert (
        await api.http.post(f"/cases/{case_id}/claim", json={}, headers=anna)
    ).status_code == 200

    taken = problem(await api.http.post(f"/cases/{case_id}/claim", json={}, headers=marek), 409)
    assert taken["domain_error"] == "AlreadyAssigned"
    assert taken["detail"] == "assigned to anna.pl: a supervisor reassigns"
    # only supervisors assign
    problem(
        await api.http.post(f"/cases/{case_id}/assign", json={"officer": "marek.pl"}, headers=anna),
        403,
    )
    # an officer unknown to the directory, another state's, or not an officer at all: 422
    for officer in ("nobody.pl", "olena.ua", "audit.pl"):
        answer = await api.http.post(
            f"/cases/{case_id}/assign", json={"officer": officer}, headers=piotr
        )
        assert problem(answer, 422)["type"].endswith("invalid-input"), officer
    # the side is the caller's, never the body's; a malformed body is refused
    for body in ({"side": "requested"}, {"by": "marek.pl"}):
        problem(await api.http.post(f"/cases/{case_id}/release", json=body, headers=anna), 422)
    problem(await api.http.post(f"/cases/{case_id}/assign", json={}, headers=piotr), 422)
    # auditors and admins do not act on cases; a third state does not know the case
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    problem(await api.http.post(f"/cases/{case_id}/claim", json={}, headers=auditor), 403)
    problem(
        await api.http.post(
            f"/cases/{case_id}/claim", json={}, headers=api.as_("hans.de", "officer", "DE")
        ),
        404,
    )
    assert await assignments(api, case_id) == [("requesting", "anna.pl", "anna.pl")]


async def test_a_closed_case_refuses_a_claim(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    opened = await api.http.post("/cases", json=OPEN, headers=anna)
    case_id = opened.json()["case_id"]
    answer = await api.http.post(
        f"/cases/{case_id}/withdraw", json={"reasons": ["no longer needed"]}, headers=anna
    )
    assert answer.status_code == 200, answer.text
    for _ in range(100):  # a draft withdrawn has nothing more to happen to it: it closes
        shown = await api.http.get(f"/cases/{case_id}", headers=anna)
        if shown.json()["status"] == "closed":
            break
        await asyncio.sleep(0.05)
    assert shown.json()["status"] == "closed"
    refused = problem(await api.http.post(f"/cases/{case_id}/claim", json={}, headers=anna), 409)
    assert refused["domain_error"] == "CaseClosedError"


async def test_lists_by_the_callers_sides_assignee(api: Api) -> None:
    await directory(api)
    anna = api.as_("anna.pl", "officer", "PL")
    marek = api.as_("marek.pl", "officer", "PL")
    piotr = api.as_("piotr.pl", "supervisor", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    mine, marek_s, nobody_s = [await submitted_case(api) for _ in range(3)]
    # UA's officer claims the third: UA's side, which says nothing of PL's
    for case_id, caller in ((mine, anna), (marek_s, marek), (nobody_s, olena)):
        answer = await api.http.post(f"/cases/{case_id}/claim", json={}, headers=caller)
        assert answer.status_code == 200, answer.text

    async def listed(caller: dict[str, str], assigned: str) -> set[str]:
        answer = await api.http.get("/cases", params={"assigned": assigned}, headers=caller)
        assert answer.status_code == 200, answer.text
        return {item["case_id"] for item in answer.json()["items"]}

    assert await listed(anna, "me") == {mine}
    assert await listed(marek, "me") == {marek_s}
    assert await listed(anna, "unassigned") == {nobody_s}
    assert await listed(olena, "me") == {nobody_s}
    assert await listed(olena, "unassigned") == {mine, marek_s}
    assert await listed(piotr, "marek.pl") == {marek_s}
    assert await listed(piotr, "me") == set()
    assert await listed(anna, "anna.pl") == {mine}  # an officer may name themselves
    problem(await api.http.get("/cases", params={"assigned": "marek.pl"}, headers=anna), 403)
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    problem(await api.http.get("/cases", params={"assigned": "me"}, headers=auditor), 403)
    problem(await api.http.get("/cases", params={"assigned": "a b"}, headers=anna), 422)
    items = (await api.http.get("/cases", params={"assigned": "me"}, headers=anna)).json()["items"]
    assert items[0]["assignees"] == {"requesting": "anna.pl", "requested": None}
