"""The approval queue on two federated nodes (issue 17), where UA's node requires a
supervisor's approval of its replies: the draft is UA's node's own, so UA's supervisor lists and
counts it, while the requesting node (PL) never shows it in any list or count."""

from __future__ import annotations

from typing import Any

import pytest
from federation_nodes import Node, Nodes
from test_exchange_failures import submitted_case

pytestmark = pytest.mark.temporal


async def queue(node: Node, headers: dict[str, str]) -> tuple[set[str], Any]:
    """The cases `headers`' caller lists as awaiting approval, and their state's count."""
    listed = await node.http.get("/cases", params={"awaiting_approval": "true"}, headers=headers)
    assert listed.status_code == 200, listed.text
    load = await node.http.get("/workload", headers=headers)
    assert load.status_code == 200, load.text
    return {c["case_id"] for c in listed.json()["items"]}, load.json()["awaiting_approval"]


async def test_only_the_requested_node_lists_the_draft(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    ua.services.settings.reply_approval = "UA:EU-UA"  # UA's node's own policy
    case_id = await submitted_case(nodes)
    drafted = await ua.http.post(f"/cases/{case_id}/accept", json={}, headers=ua.as_("olena.ua"))
    assert drafted.status_code == 202, drafted.text

    assert await queue(ua, ua.as_("taras.ua", "supervisor")) == ({case_id}, 1)
    piotr = pl.as_("piotr.pl", "supervisor")
    assert await queue(pl, piotr) == (set(), 0)
    # the case itself is PL's to list, as if no draft existed
    mine = await pl.http.get("/cases", params={"awaiting_approval": "false"}, headers=piotr)
    assert case_id in {c["case_id"] for c in mine.json()["items"]}
