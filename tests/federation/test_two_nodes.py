"""A case between two nodes, each state its own Readmit: opened and submitted on PL's, answered
on UA's, transferred and closed on both, with both chains verifying and each matching the heads
its peer signed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from factories import application_body
from federation_nodes import Node, Nodes, eventually
from tampering import rewrite_event, truncate_tail
from temporalio.worker import Replayer

from adapters.audit.peer_anchors import PeerAnchors
from adapters.db.eventstore import Recorded
from adapters.federation.heads import PeerChains
from adapters.federation.peers import PeerDirectory
from adapters.temporal.codec import Keyring, data_converter
from api.web.session import SESSION_COOKIE, start_session
from workflows.message_delivery import MessageDelivery
from workflows.readmission_case import ReadmissionCase

pytestmark = pytest.mark.temporal


async def command(
    node: Node, case_id: str, path: str, who: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Send a command as `who` and wait until it took effect on `node` (its receipt back)."""
    answer = await node.http.post(f"/cases/{case_id}{path}", json=body or {}, headers=node.as_(who))
    assert answer.status_code in (200, 202), answer.text
    reply: dict[str, Any] = answer.json()

    async def receipted() -> bool:
        exchange = (await node.view(case_id)).exchange
        return exchange is not None and not exchange.outbox

    await eventually(receipted, f"{path} receipted and applied on {node.state}'s node")
    return reply


async def status(node: Node, case_id: str) -> str | None:
    view = await node.view(case_id)
    return str(view.state.status.value)


async def test_a_case_between_two_nodes(nodes: Nodes, keyring: Keyring) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    now = datetime.now(UTC)
    opened = await pl.http.post(
        "/cases",
        json=application_body(knowledge_at=(now - timedelta(days=2)).isoformat()),
        headers=pl.as_("anna.pl"),
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    sending = await command(pl, case_id, "/submit", "anna.pl")
    assert sending["sending"]["recipient"] == "UA" and sending["status"] == "draft"

    async def received_on_ua() -> bool:
        try:
            return await status(ua, case_id) == "received"
        except Exception:
            return False

    await eventually(received_on_ua, "UA's node holds the submitted case")
    await eventually(lambda: _status_is(pl, case_id, "received"), "PL applied its receipt")
    receipt = (await pl.exchange.receipts(case_id))[0]
    ua_state = (await ua.view(case_id)).state
    pl_state = (await pl.view(case_id)).state
    assert ua_state.received_at == receipt.received_at == pl_state.received_at
    assert ua_state.deadlines["reply"] == pl_state.deadlines["reply"]
    assert ua_state.deadlines["reply"].triggered_at == receipt.received_at

    await command(ua, case_id, "/receipt", "olena.ua")
    await eventually(lambda: _acknowledged(pl, case_id), "PL sees UA's acknowledgement")
    await command(ua, case_id, "/accept", "olena.ua")
    await eventually(lambda: _status_is(pl, case_id, "accepted"), "PL sees the acceptance")
    await eventually(lambda: _status_is(ua, case_id, "accepted"), "UA applied PL's receipt")

    async def exchanged() -> list[tuple[str, str, str]] | None:
        answer = await pl.http.get(f"/cases/{case_id}/exchange", headers=pl.as_("anna.pl"))
        record = answer.json()
        if record["on_its_way"] or any(m["receipt"] is None for m in record["messages"]):
            return None
        return [(m["direction"], m["command"], m["receipt"]["outcome"]) for m in record["messages"]]

    page = await case_page(pl, case_id, "anna.pl")
    assert "Messages with UA" in page and "sent, no. 1" in page and "received, no. 2" in page
    assert await eventually(exchanged, "PL's record of the exchange") == [
        ("received", "confirm_receipt", "applied"),
        ("received", "accept", "applied"),
        ("sent", "submit", "applied"),
    ]
    on = (now + timedelta(days=5)).isoformat()
    await command(
        pl, case_id, "/transfer", "anna.pl", {"on": on, "bcp": "Medyka-Shehyni", "mode": "land"}
    )
    await eventually(lambda: _status_is(ua, case_id, "transfer_scheduled"), "UA sees the transfer")
    await nodes.env.sleep(timedelta(days=5))
    await command(pl, case_id, "/transfer/complete", "anna.pl")
    await eventually(lambda: _status_is(ua, case_id, "transferred"), "UA sees the transfer done")
    await eventually(lambda: _status_is(pl, case_id, "transferred"), "PL applied its receipt")
    # the window for a claim of readmission in error binds UA: PL's node expires it, UA's learns
    await nodes.env.sleep(timedelta(days=100))
    await eventually(lambda: _closed(pl, case_id), "PL's case closed by itself")
    await eventually(lambda: _closed(ua, case_id), "UA's case closed by itself")
    for node in (pl, ua):
        verified = await node.services.store.verify(case_id)
        assert verified.ok, (node.state, verified)
    types = {
        node.state: [r.type for r in await node.services.store.read_stream(case_id)]
        for node in (pl, ua)
    }
    # the window binds UA: UA's node reminded its officers, PL's reminded no one and applied
    # its end (escalated at the expiry, as a single installation records it), which UA's took
    reminders = {state: kinds.count("DeadlineEscalated") for state, kinds in types.items()}
    assert reminders["PL"] == 1 and reminders["UA"] > 1, types
    assert (
        types["PL"][-3:] == types["UA"][-3:] == ["DeadlineEscalated", "LimitLapsed", "CaseClosed"]
    )
    # the identity check is UA's, against UA's registry, on UA's node only
    assert "VerificationRecorded" in types["UA"] and "VerificationRecorded" not in types["PL"]
    # both copies hold every head the peer signed; the same commands' events share their ids
    async with httpx.AsyncClient(transport=nodes.network) as http:
        for node in (pl, ua):
            directory = PeerDirectory(node.pool, own_state=node.state)
            both = PeerAnchors(node.exchange, directory, PeerChains(node.identity, directory, http))
            assert await both.findings(case_id, await stream(node, case_id)) == []
            assert len(await node.exchange.receipts(case_id)) >= 4
    ids = {node.state: {r.event_id for r in await stream(node, case_id)} for node in (pl, ua)}
    assert len(ids["PL"] & ids["UA"]) >= 8

    # both nodes' case and delivery workflows replay deterministically against this code
    replayer = Replayer(
        workflows=[ReadmissionCase, MessageDelivery], data_converter=data_converter(keyring)
    )
    for node in (pl, ua):
        workflows = [case_id] + [
            f"message-{m.message_id}"
            for m in await node.exchange.messages(case_id)
            if m.direction == "out"
        ]
        for workflow_id in workflows:
            history = await node.client.get_workflow_handle(workflow_id).fetch_history()
            await replayer.replay_workflow(history)

    # a superuser rewrites PL's submission, recomputing the chain: PL's own chain still
    # verifies, but no longer holds the head UA signed for it
    await rewrite_event(pl.pool, case_id, 2, note="rewritten")
    assert (await pl.services.store.verify(case_id)).ok
    findings = await anchors(pl).findings(case_id, await stream(pl, case_id))
    assert findings and {f.kind for f in findings} == {"rewritten"}, findings
    assert all("UA's signed receipt" in f.detail or "this node's" in f.detail for f in findings)
    await truncate_tail(ua.pool, case_id, keep=3)
    cut = await anchors(ua).findings(case_id, await stream(ua, case_id))
    assert "truncated" in {f.kind for f in cut}, cut

    # each node asks the other for its chain (`verify --peer --fetch`): the rewrite of PL's
    # history and the cut of UA's are both provable from the other side too
    async with httpx.AsyncClient(transport=nodes.network) as http:
        for node, other, kind in ((ua, "PL", "peer_rewritten"), (pl, "UA", "peer_truncated")):
            chains = PeerChains(node.identity, PeerDirectory(node.pool, own_state=node.state), http)
            fetched = PeerAnchors(node.exchange, chains.peers, chains)
            seen = await fetched.findings(case_id, await stream(node, case_id))
            theirs = [f for f in seen if f.kind.startswith("peer_")]
            assert theirs and {f.kind for f in theirs} == {kind}, seen
            assert all(f"{other}'s" in f.detail for f in theirs)


def anchors(node: Node) -> PeerAnchors:
    return PeerAnchors(node.exchange, PeerDirectory(node.pool, own_state=node.state))


async def stream(node: Node, case_id: str) -> list[Recorded]:
    recorded: list[Recorded] = await node.services.store.read_stream(case_id)
    return recorded


async def case_page(node: Node, case_id: str, user: str) -> str:
    """The case's page as `user`, an officer of the node's state, signed in, sees it."""
    principal = await node.services.verifier.verify(node.as_(user)["Authorization"][7:])
    cookie = await start_session(node.services, principal, "token")
    answer = await node.http.get(
        f"/ui/cases/{case_id}", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.text)


async def _acknowledged(node: Node, case_id: str) -> bool:
    return (await node.view(case_id)).state.acknowledged_at is not None


async def _closed(node: Node, case_id: str) -> bool:
    try:
        return await status(node, case_id) == "closed"
    except Exception:  # its workflow completed: read its store
        stream = await node.services.store.read_stream(case_id)
        return bool(stream) and stream[-1].type == "CaseClosed"


async def _status_is(node: Node, case_id: str, wanted: str) -> bool:
    return await status(node, case_id) == wanted
