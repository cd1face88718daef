"""A reply's approval on two federated nodes, where UA's node requires it (its own setting,
`READMIT_REPLY_APPROVAL=UA:EU-UA`): the officer's draft stays on UA's node (no message, PL
records nothing), the supervisor's approval crosses as the reply itself, and both nodes record
it at the approval instant."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

import pytest
from federation_nodes import Node, Nodes, eventually
from test_exchange_failures import chains_verify, events, submitted_case

pytestmark = pytest.mark.temporal


async def refused(node: Node, case_id: str) -> bool:
    return "ApplicationRefused" in await events(node, case_id)


async def test_the_draft_stays_on_its_node_and_the_approved_reply_crosses(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    ua.services.settings.reply_approval = "UA:EU-UA"  # UA's node's own policy
    case_id = await submitted_case(nodes)
    sent = len(await ua.exchange.messages(case_id))
    pl_before = await events(pl, case_id)

    drafted = await ua.http.post(
        f"/cases/{case_id}/refuse", json={"reasons": ["not a national"]}, headers=ua.as_("olena.ua")
    )
    assert drafted.status_code == 202, drafted.text
    assert drafted.json()["approval"] == "awaiting" and drafted.json().get("sending") is None
    assert [e["type"] for e in drafted.json()["events"]] == ["ReplyDrafted"]
    assert len(await ua.exchange.messages(case_id)) == sent  # nothing sent
    assert await events(pl, case_id) == pl_before
    assert (await pl.view(case_id)).state.reply_draft is None

    await nodes.env.sleep(timedelta(hours=3))  # the supervisor approves three hours later
    approved = await ua.http.post(
        f"/cases/{case_id}/reply/approve", json={}, headers=ua.as_("taras.ua", "supervisor")
    )
    assert approved.status_code == 202, approved.text  # on its way to PL: the reply itself
    assert approved.json()["sending"]["recipient"] == "PL"
    for node in (pl, ua):  # refused (and then closed by itself: nothing more can happen)
        await eventually(functools.partial(refused, node, case_id), f"{node.state}'s copy refused")
    replied = {}
    for node in (pl, ua):
        state = (await node.view(case_id)).state
        assert state.replied_at is not None, node.state
        replied[node.state] = state.replied_at
    assert replied["PL"] == replied["UA"]
    draft_at = datetime.fromisoformat(drafted.json()["events"][0]["at"])
    assert replied["UA"] - draft_at >= timedelta(hours=3)  # from the approval, not the draft
    pl_types = await events(pl, case_id)
    assert "ApplicationRefused" in pl_types and "ReplyDrafted" not in pl_types
    assert "ReplyDrafted" in await events(ua, case_id)
    await chains_verify(nodes, case_id)
