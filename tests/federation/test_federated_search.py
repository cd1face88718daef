"""The person search on two nodes: each node indexes the cases it holds, its own and those its
peer sent it, and finds them with its own key; nothing about a search crosses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import application_body
from federation_nodes import Node, Nodes, eventually

pytestmark = pytest.mark.temporal

CRITERIA = {"surname": "Шевченко", "birth_date": "1990-05-17"}


async def found(node: Node, who: str) -> list[str]:
    await node.services.projector.catch_up()
    answer = await node.http.post("/search/persons", json=CRITERIA, headers=node.as_(who))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return [i["case_id"] for i in items]


async def test_each_node_finds_the_cases_it_holds(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    known = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    body = application_body(knowledge_at=known)
    first = await pl.http.post("/cases", json=body, headers=pl.as_("anna.pl"))
    assert first.status_code == 201, first.text
    case_id = first.json()["case_id"]
    assert await found(pl, "anna.pl") == [case_id]
    assert await found(ua, "olena.ua") == []  # a draft never left PL's node

    sent = await pl.http.post(f"/cases/{case_id}/submit", json={}, headers=pl.as_("anna.pl"))
    assert sent.status_code == 202, sent.text

    async def found_on_ua() -> bool:
        try:
            return await found(ua, "olena.ua") == [case_id]
        except AssertionError:
            return False

    await eventually(found_on_ua, "UA's node indexed the case it received")
    second = await pl.http.post("/cases", json=body, headers=pl.as_("anna.pl"))
    assert second.status_code == 201, second.text
    assert [e["case_id"] for e in second.json()["earlier_cases"]] == [case_id]
    assert await found(ua, "olena.ua") == [case_id]  # PL's new draft stays on PL's node
    own = await ua.pool.fetchval("SELECT count(*) FROM person_index WHERE case_id = $1", case_id)
    assert own > 0
