"""Lists show each case's person summary (surname, initial, birth year): every list request
writes one row to the disclosure log naming every case it showed, and the auditors of each
case's states find it among that case's disclosures, in the API and in an audit bundle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_harness import Api
from factories import application_body

from adapters.audit.collect import disclosures

pytestmark = pytest.mark.temporal

OPEN = application_body(knowledge_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())


async def listed_rows(api: Api) -> list[dict[str, object]]:
    rows = await api.pool.fetch(
        "SELECT user_id, role, state, case_id, case_ids, purpose, endpoint, fields"
        " FROM disclosure_log WHERE endpoint = 'GET /cases' ORDER BY id"
    )
    return [dict(r) for r in rows]


async def test_a_list_writes_one_row_naming_every_case_shown(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    opened = [await api.http.post("/cases", json=OPEN, headers=anna) for _ in range(3)]
    draft, submitted, third = (o.json()["case_id"] for o in opened)
    for case_id in (submitted, third):
        answer = await api.http.post(f"/cases/{case_id}/submit", json={}, headers=anna)
        assert answer.status_code == 200, answer.text

    listing = await api.http.get("/cases", headers=anna)
    assert listing.status_code == 200
    assert {i["case_id"] for i in listing.json()["items"]} == {draft, submitted, third}
    assert await listed_rows(api) == [
        {
            "user_id": "anna.pl",
            "role": "officer",
            "state": "PL",
            "case_id": None,
            "case_ids": sorted([draft, submitted, third]),
            "purpose": "case list",
            "endpoint": "GET /cases",
            "fields": ["person_summary"],
        }
    ]
    # a page of two, then the rest: a row for each page, naming its cases only
    first = (await api.http.get("/cases", params={"limit": 2}, headers=anna)).json()
    rest = await api.http.get(
        "/cases", params={"limit": 2, "cursor": first["next_cursor"]}, headers=anna
    )
    pages = [r["case_ids"] for r in await listed_rows(api)][1:]
    assert pages == [
        sorted(i["case_id"] for i in first["items"]),
        [rest.json()["items"][0]["case_id"]],
    ]
    # a list that shows nothing discloses nothing
    empty = await api.http.get("/cases", params={"q": "PL-UA-1999"}, headers=anna)
    assert empty.json()["items"] == [] and len(await listed_rows(api)) == 3

    # UA's officer lists the two submitted cases; UA's auditor sees that row and the rows of
    # PL's lists naming only those two (the draft is PL's business), DE's auditor sees none
    assert (await api.http.get("/cases", headers=api.as_("olena.ua", "officer", "UA"))).is_success

    async def log(states: tuple[str, ...], **params: str) -> list[tuple[str, list[str]]]:
        answer = await api.http.get(
            "/audit/disclosures",
            params={"limit": "100", **params},
            headers=api.as_("audit.x", "auditor", None, states),
        )
        assert answer.status_code == 200, answer.text
        return [
            (i["user_id"], i["case_ids"])
            for i in answer.json()["items"]
            if i["endpoint"] == "GET /cases"
        ]

    assert (await log(("UA",)))[0] == ("olena.ua", sorted([submitted, third]))
    assert ("anna.pl", sorted([submitted, third])) in await log(("UA",))
    assert all(draft not in ids for _, ids in await log(("UA",)))
    assert ("anna.pl", sorted([draft, submitted, third])) in await log(("PL",))
    assert await log(("DE",)) == []
    for_draft = await log(("PL",), case_id=draft)
    assert for_draft and all(ids == [draft] for _, ids in for_draft)

    # a bundle's disclosures of one case hold the lists that showed it, naming no other case
    exported = await disclosures(api.pool, submitted)
    shown = [d for d in exported if d["endpoint"] == "GET /cases"]
    assert len(shown) == 3  # the full list, the page that held it, UA's list
    assert shown[0]["cases_shown"] == 3 and shown[-1]["cases_shown"] == 2
    assert all(d["case_id"] == submitted for d in exported)
