"""Acknowledging an escalation on a federated node (issue 17): the node of the state a limit
binds escalates it to its supervisors, one of them acknowledges it there at once (200, no
message), the other node neither learns of it nor has anything to acknowledge, and the case's
exchange goes on around it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from federation_nodes import Nodes
from test_exchange_failures import chains_verify, events, reaches, submitted_case

pytestmark = pytest.mark.temporal


async def test_an_acknowledgement_stays_on_its_own_node(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    view = await ua.view(case_id)
    due, now = view.state.deadlines["reply"].due, view.state.updated_at
    assert now is not None
    await nodes.env.sleep(due - now - timedelta(hours=6))  # past the escalation (12 h before)
    assert "reply" in {e.limit for e in (await ua.view(case_id)).state.escalations}
    assert not (await pl.view(case_id)).state.escalations  # PL's node reminds no one of it

    path = f"/cases/{case_id}/escalations/acknowledge"
    sent = len(await pl.exchange.messages(case_id))
    pl_before = await events(pl, case_id)
    refused = await pl.http.post(path, json={}, headers=pl.as_("piotr.pl", "supervisor"))
    assert refused.status_code == 409, refused.text
    answer = await ua.http.post(path, json={}, headers=ua.as_("taras.ua", "supervisor"))
    assert answer.status_code == 200, answer.text
    assert answer.json().get("sending") is None
    assert [e["type"] for e in answer.json()["events"]] == ["EscalationAcknowledged"]
    assert len(await pl.exchange.messages(case_id)) == sent  # nothing sent
    assert await events(pl, case_id) == pl_before
    # a crossing command afterwards is delivered and applied on both nodes as ever
    accepted = await ua.http.post(f"/cases/{case_id}/accept", json={}, headers=ua.as_("olena.ua"))
    assert accepted.status_code == 202, accepted.text
    await reaches(pl, case_id, "accepted")
    await reaches(ua, case_id, "accepted")
    await chains_verify(nodes, case_id)
