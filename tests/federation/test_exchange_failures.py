"""What goes wrong between two nodes, and how each failure is met: a peer down for hours, a
message delivered twice, replayed or out of order, signed by an unknown, rotated-out or revoked
key, altered on its way, sent to the wrong node, too large, or claiming an instant beyond the
clock-skew tolerance, and the reply racing its deadline. Each is refused with a signed receipt or
handled once, nothing is lost or applied twice, and both chains verify afterwards."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from factories import application_body, open_case
from federation_nodes import Node, Nodes, eventually, host_of
from prometheus_client import REGISTRY

from adapters.agreements.catalogue import load_catalogue
from adapters.federation.envelope import (
    EncryptedPart,
    MessageActor,
    MessageBody,
    ReceiptBody,
    sign_message,
    unverified_header,
    verify_receipt,
)
from adapters.federation.hpke import encrypt_to, message_aad
from adapters.federation.identity import NodeIdentity
from adapters.federation.peers import PeerDirectory
from api.auth import issue_dev_token
from domain.commands import AcceptApplication, Command, ConfirmReceipt, OpenCase, SubmitApplication
from domain.values import Status

pytestmark = pytest.mark.temporal

JOSE = {"content-type": "application/jose"}


async def open_and_submit(pl: Node) -> str:
    now = datetime.now(UTC)
    opened = await pl.http.post(
        "/cases",
        json=application_body(knowledge_at=(now - timedelta(days=2)).isoformat()),
        headers=pl.as_("anna.pl"),
    )
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    submitted = await pl.http.post(f"/cases/{case_id}/submit", json={}, headers=pl.as_("anna.pl"))
    assert submitted.status_code == 202, submitted.text
    return case_id


async def status(node: Node, case_id: str) -> str | None:
    try:
        return str((await node.view(case_id)).state.status.value)
    except Exception:  # not (yet) on this node
        return None


async def reaches(node: Node, case_id: str, wanted: str, seconds: float = 30.0) -> None:
    async def there() -> bool:
        return await status(node, case_id) == wanted

    await eventually(there, f"{node.state}'s copy of {case_id} {wanted}", seconds)


async def submitted_case(nodes: Nodes) -> str:
    case_id = await open_and_submit(nodes["PL"])
    await reaches(nodes["UA"], case_id, "received")
    await reaches(nodes["PL"], case_id, "received")
    return case_id


async def events(node: Node, case_id: str) -> list[str]:
    return [r.type for r in await node.services.store.read_stream(case_id)]


async def chains_verify(nodes: Nodes, case_id: str) -> None:
    for state in ("PL", "UA"):
        assert (await nodes[state].services.store.verify(case_id)).ok, state


def craft(
    sender: NodeIdentity,
    recipient: Node,
    case_id: str,
    command: Command,
    *,
    seq: int,
    peer_seen: int = 0,
    sent_at: datetime | None = None,
    actor: MessageActor | None = None,
    recipient_state: str | None = None,
    padding: str = "",
    opening: OpenCase | None = None,
) -> tuple[UUID, str]:
    """A message as `sender` would sign it, encrypted to `recipient`'s node."""
    message_id = uuid4()
    to = recipient_state or recipient.state
    clear = {
        "command": command.model_dump(mode="json"),
        "opening": opening.model_dump(mode="json") if opening else None,
        "padding": padding,
    }
    aad = message_aad(message_id, case_id, sender.state, to)
    part: EncryptedPart = encrypt_to(
        recipient.identity.encryption_key.public_key(),
        recipient.identity.encryption_kid,
        json.dumps(clear).encode(),
        aad,
    )
    body = MessageBody(
        message_id=message_id,
        case_id=case_id,
        sender=sender.state,
        recipient=to,
        seq=seq,
        peer_seen=peer_seen,
        sent_at=sent_at or command.at,
        kind="command",
        command_name=command.command,
        actor=actor or MessageActor(user_id="olena.ua", state=sender.state, role="officer"),
        payload=part,
        head=None,
    )
    return message_id, sign_message(body, sender.signing_key, sender.signing_kid)


async def deliver(node: Node, token: str) -> ReceiptBody:
    """Post `token` to `node` and verify its signed receipt with `node`'s key."""
    answer = await node.http.post("/federation/messages", content=token, headers=JOSE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/jose"
    kid, _ = unverified_header(answer.text)
    assert kid == node.identity.signing_kid
    key = node.identity.signing_key.public_key()
    return verify_receipt(answer.text, lambda _kid: key, 1 << 20).body


def delivery_sample(name: str, **labels: str) -> float:
    """A metric of PL's deliveries to UA (both nodes run in this process: one registry)."""
    return REGISTRY.get_sample_value(name, {"peer": "UA", **labels}) or 0.0


async def test_a_peer_down_for_hours_receives_when_it_returns(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    failures = delivery_sample("readmit_federation_delivery_failures_total", reason="unreachable")
    delivered = delivery_sample("readmit_federation_delivery_seconds_count")
    nodes.network.down.add(host_of("UA"))
    case_id = await open_and_submit(pl)
    sent_at = (await pl.view(case_id)).exchange.outbox[0].sent_at
    # while the submission waits, the case takes no other crossing command
    again = await pl.http.post(f"/cases/{case_id}/submit", json={}, headers=pl.as_("anna.pl"))
    assert again.status_code == 409, again.text
    await nodes.env.sleep(timedelta(hours=5))
    assert await status(ua, case_id) is None and await status(pl, case_id) == "draft"
    nodes.network.down.clear()
    await nodes.env.sleep(timedelta(minutes=11))  # the next attempt, at most 10 minutes on
    await reaches(ua, case_id, "received")
    await reaches(pl, case_id, "received")
    receipt = (await pl.exchange.receipts(case_id))[0]
    assert receipt.received_at - sent_at >= timedelta(hours=5)
    # issue 18: the failed attempts and the delivery are counted for the peer
    assert (
        delivery_sample("readmit_federation_delivery_failures_total", reason="unreachable")
        > failures
    )
    assert delivery_sample("readmit_federation_delivery_seconds_count") > delivered
    # the reply limit runs from the actual receipt, on both nodes
    for node in (pl, ua):
        reply = (await node.view(case_id)).state.deadlines["reply"]
        assert reply.triggered_at == receipt.received_at, node.state
    await chains_verify(nodes, case_id)


async def test_a_message_delivered_twice_is_applied_once(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    before = await events(ua, case_id)
    sent = (await pl.exchange.messages(case_id))[0]
    first = (await ua.exchange.receipts(case_id))[0]
    answer = await ua.http.post("/federation/messages", content=sent.token, headers=JOSE)
    assert answer.text == first.token  # the very receipt it got the first time
    assert await events(ua, case_id) == before
    await chains_verify(nodes, case_id)


async def test_a_replayed_or_reordered_message_is_refused(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    now = datetime.now(UTC)
    confirm = ConfirmReceipt(at=now)
    # PL's number 1 was the submission: a new message claiming it again is a replay
    _, replay = craft(pl.identity, ua, case_id, confirm, seq=1, actor=_anna())
    refused = await deliver(ua, replay)
    assert refused.outcome == "refused" and refused.refusal is not None
    assert (refused.refusal.code, refused.refusal.retryable) == ("out_of_order", False)
    # number 3 before 2: it waits for 2 (retryable), nothing applied
    _, ahead = craft(pl.identity, ua, case_id, confirm, seq=3, actor=_anna())
    early = await deliver(ua, ahead)
    assert early.refusal is not None and (early.refusal.code, early.refusal.retryable) == (
        "out_of_order",
        True,
    )
    assert (await ua.view(case_id)).exchange.in_seq == 1
    await chains_verify(nodes, case_id)


def _anna() -> MessageActor:
    return MessageActor(user_id="anna.pl", state="PL", role="officer")


async def test_unknown_rotated_out_and_revoked_keys_are_refused(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    now = datetime.now(UTC)
    accept = AcceptApplication(at=now)
    stranger = NodeIdentity.create("UA", "https://ua.elsewhere.test")
    _, forged = craft(stranger, pl, case_id, accept, seq=1, peer_seen=1)
    receipt = await deliver(pl, forged)
    assert receipt.refusal is not None and receipt.refusal.code == "unknown_key"
    # PL takes UA's new keys with no overlap: UA's node, still signing with its old key, is
    # refused until it signs with the new one
    renewed = NodeIdentity.create("UA", f"https://{host_of('UA')}")
    directory = PeerDirectory(pl.pool, own_state="PL")
    await directory.rotate(renewed.descriptor(), timedelta(0), now)
    _, old = craft(ua.identity, pl, case_id, accept, seq=1, peer_seen=1)
    receipt = await deliver(pl, old)
    assert receipt.refusal is not None and receipt.refusal.code == "rotated_out"
    _, fresh = craft(renewed, pl, case_id, accept, seq=1, peer_seen=1, sent_at=now)
    assert (await deliver(pl, fresh)).refusal is None  # in order, new key: taken
    await reaches(pl, case_id, "accepted")
    await directory.revoke("UA", datetime.now(UTC))
    _, revoked = craft(renewed, pl, case_id, ConfirmReceipt(at=now), seq=2, peer_seen=1)
    receipt = await deliver(pl, revoked)
    assert receipt.refusal is not None and receipt.refusal.code in {"revoked", "unknown_peer"}
    assert (await pl.view(case_id)).exchange.in_seq == 1


async def test_an_altered_message_is_refused_and_the_intact_one_delivered(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    altered: list[bytes] = []

    def alter_once(body: bytes) -> bytes:
        if altered:
            return body
        head, payload, signature = body.split(b".")
        forged = signature[:-4] + (b"AAAA" if not signature.endswith(b"AAAA") else b"BBBB")
        altered.append(forged)
        return b".".join((head, payload, forged))

    nodes.network.tamper = alter_once
    case_id = await open_and_submit(pl)
    await eventually(lambda: _answered(nodes), "the altered message answered")
    first = nodes.network.sent[0]
    assert first.status == 200  # a signed refusal, to be tried again: the stored bytes are intact
    await nodes.env.sleep(timedelta(seconds=10))  # the next attempt
    await reaches(ua, case_id, "received")
    await reaches(pl, case_id, "received")
    assert len(await ua.exchange.messages(case_id)) == 1  # the altered one was never kept
    await chains_verify(nodes, case_id)


async def _answered(nodes: Nodes) -> bool:
    return bool(nodes.network.sent)


async def test_wrong_recipient_oversized_and_skewed_messages_are_refused(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    now = datetime.now(UTC)
    confirm = ConfirmReceipt(at=now)
    elsewhere = case_id.replace("PL-UA", "PL-DE")
    _, misrouted = craft(
        pl.identity, ua, elsewhere, confirm, seq=2, peer_seen=0, recipient_state="DE", actor=_anna()
    )
    receipt = await deliver(ua, misrouted)
    assert receipt.refusal is not None and receipt.refusal.code == "wrong_recipient"
    inbound: Any = ua.services.inbound
    inbound.max_bytes = 4096
    _, big = craft(pl.identity, ua, case_id, confirm, seq=2, actor=_anna(), padding="x" * 8000)
    receipt = await deliver(ua, big)
    assert receipt.refusal is not None and receipt.refusal.code == "oversized"
    inbound.max_bytes = 1 << 20
    ahead = (await ua.view(case_id)).state.updated_at or now
    _, skewed = craft(
        pl.identity, ua, case_id, confirm, seq=2, actor=_anna(), sent_at=ahead + timedelta(hours=1)
    )
    receipt = await deliver(ua, skewed)
    assert receipt.refusal is not None and receipt.refusal.code == "clock_skew"
    assert (await ua.view(case_id)).state.acknowledged_at is None
    await chains_verify(nodes, case_id)


async def test_a_reply_sent_before_its_deadline_and_received_after_counts(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    due = (await pl.view(case_id)).state.deadlines["reply"].due
    now = (await pl.view(case_id)).state.updated_at
    assert now is not None
    await nodes.env.sleep(due - now - timedelta(seconds=20))
    nodes.network.down.add(host_of("PL"))
    accepted = await ua.http.post(f"/cases/{case_id}/accept", json={}, headers=ua.as_("olena.ua"))
    assert accepted.status_code == 202, accepted.text
    await nodes.env.sleep(timedelta(seconds=50))  # past the deadline, within the tolerance
    nodes.network.down.clear()
    await nodes.env.sleep(timedelta(seconds=20))
    await reaches(pl, case_id, "accepted")
    await reaches(ua, case_id, "accepted")
    for node in (pl, ua):
        state = (await node.view(case_id)).state
        assert state.replied_at is not None and state.replied_at <= due, node.state
    # and PL's clock, holding the expiry for the tolerance, never deemed it accepted
    await nodes.env.sleep(timedelta(minutes=5))
    assert "DeemedAccepted" not in await events(pl, case_id)
    await chains_verify(nodes, case_id)


async def test_a_reply_sent_after_its_deadline_is_refused_and_the_case_deemed(
    nodes: Nodes,
) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    due = (await pl.view(case_id)).state.deadlines["reply"].due
    now = (await pl.view(case_id)).state.updated_at
    assert now is not None
    await nodes.env.sleep(due - now + timedelta(seconds=10))
    # UA's own node knows the deadline passed: its officer's reply is refused at once
    late = await ua.http.post(f"/cases/{case_id}/accept", json={}, headers=ua.as_("olena.ua"))
    assert late.status_code == 409, late.text
    # a node whose clock says otherwise: its reply, signed 10 s after the deadline and
    # received within the tolerance, is refused as late by PL's node
    sent_at = due + timedelta(seconds=10)
    olena = MessageActor(user_id="olena.ua", state="UA", role="officer")
    _, token = craft(
        ua.identity, pl, case_id, AcceptApplication(at=sent_at), seq=1, peer_seen=1, actor=olena
    )
    receipt = await deliver(pl, token)
    assert receipt.refusal is not None and receipt.refusal.code == "late", receipt
    await nodes.env.sleep(timedelta(minutes=3))  # PL applies the expiry after the tolerance
    await reaches(pl, case_id, Status.DEEMED_ACCEPTED.value)
    await reaches(ua, case_id, Status.DEEMED_ACCEPTED.value)
    await chains_verify(nodes, case_id)


async def test_an_opening_is_taken_only_on_this_nodes_own_terms_for_its_own_cases(
    nodes: Nodes,
) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    now = datetime.now(UTC)
    own = load_catalogue().terms("EU-UA", "PL", "UA")
    longer = own.limits["reply"].model_copy(update={"amount": 30})
    forged_terms = own.model_copy(update={"limits": {**own.limits, "reply": longer}})

    async def submit(case_id: str, opening: OpenCase) -> ReceiptBody:
        _, token = craft(
            pl.identity, ua, case_id, SubmitApplication(at=now), seq=1, actor=_anna(),
            opening=opening,
        )  # fmt: skip
        return await deliver(ua, token)

    case_id = f"PL-UA-{now.year}-900001"
    longer_reply = open_case(case_id=case_id, at=now, terms=forged_terms)
    receipt = await submit(case_id, longer_reply)
    assert receipt.refusal is not None and receipt.refusal.code == "terms_differ"
    # PL may not number a case as UA's own (UA's numbering), nor one between other states
    theirs = f"UA-PL-{now.year}-900002"
    receipt = await submit(theirs, open_case(case_id=theirs, at=now, terms=own))
    assert receipt.refusal is not None and receipt.refusal.code in {"wrong_case", "terms_differ"}
    assert await status(ua, case_id) is None and await status(ua, theirs) is None
    # a message for a case this node never received starts nothing
    unknown = f"PL-UA-{now.year}-900003"
    _, token = craft(pl.identity, ua, unknown, ConfirmReceipt(at=now), seq=1, actor=_anna())
    receipt = await deliver(ua, token)
    assert receipt.refusal is not None and receipt.refusal.code == "unknown_case"
    assert await status(ua, unknown) is None


async def test_a_receipt_lost_on_the_receiving_side_is_given_again(nodes: Nodes) -> None:
    """The receiving node applied the message but stopped before keeping its receipt: the
    sender's next attempt gets a receipt for the same events, nothing applied twice."""
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    before = [(r.event_id, r.type) for r in await ua.services.store.read_stream(case_id)]
    first = (await ua.exchange.receipts(case_id))[0]
    await ua.pool.execute("DELETE FROM federation_receipts WHERE direction = 'in'")
    sent = (await pl.exchange.messages(case_id))[0]
    answer = await ua.http.post("/federation/messages", content=sent.token, headers=JOSE)
    key = ua.identity.signing_key.public_key()
    again = verify_receipt(answer.text, lambda _kid: key, 1 << 20).body
    kept = verify_receipt(first.token, lambda _kid: key, 1 << 20).body
    assert again.outcome == "applied"
    assert [e.event_id for e in again.events] == [e.event_id for e in kept.events]
    assert [(r.event_id, r.type) for r in await ua.services.store.read_stream(case_id)] == before


async def test_a_node_takes_commands_from_its_own_states_officers_only(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    stranger = issue_dev_token(pl.secret, user="olena.ua", role="officer", state="UA")
    refused = await pl.http.post(
        f"/cases/{case_id}/accept", json={}, headers={"Authorization": f"Bearer {stranger}"}
    )
    assert refused.status_code == 403 and "PL's node" in refused.json()["detail"]
    opened = await ua.http.post(
        "/cases", json=application_body(), headers={"Authorization": f"Bearer {stranger}"}
    )
    assert opened.status_code == 401  # a token of PL's node means nothing to UA's


async def test_nothing_is_sent_to_a_revoked_peer(nodes: Nodes) -> None:
    pl = nodes["PL"]
    await PeerDirectory(pl.pool, own_state="PL").revoke("UA", datetime.now(UTC))
    case_id = await open_and_submit(pl)

    async def refused() -> bool:
        exchange = (await pl.view(case_id)).exchange
        return exchange is not None and any(r.code == "not_sent" for r in exchange.refused)

    await eventually(refused, "the submission refused at once")
    assert await status(pl, case_id) == "draft" and not nodes.network.sent


async def test_a_message_built_before_the_receiver_rotated_its_keys_still_opens(
    nodes: Nodes,
) -> None:
    """UA gives itself new keys (`readmit node rotate`) while PL's submission, built and
    stored for UA's old encryption key, waits for UA to come back: UA still opens it with the
    key it keeps for the overlap, and PL takes UA's receipt, signed with UA's new key, once it
    has UA's new descriptor (`readmit peers rotate`)."""
    pl, ua = nodes["PL"], nodes["UA"]
    nodes.network.down.add(host_of("UA"))
    case_id = await open_and_submit(pl)

    async def built() -> bool:
        return bool(await pl.exchange.messages(case_id))

    await eventually(built, "PL built and kept its message")
    now = datetime.now(UTC)
    renewed = ua.identity.rotated(timedelta(days=14), now=now)
    inbound: Any = ua.services.inbound
    inbound.identity = renewed  # what UA's API takes up when restarted after the rotation
    await PeerDirectory(pl.pool, own_state="PL").rotate(
        renewed.descriptor(), timedelta(days=7), now
    )
    nodes.network.down.clear()
    await nodes.env.sleep(timedelta(minutes=11))
    await reaches(ua, case_id, "received")
    await reaches(pl, case_id, "received")
    receipt = (await pl.exchange.receipts(case_id))[0]
    assert unverified_header(receipt.token)[0] == renewed.signing_kid
    await chains_verify(nodes, case_id)


async def test_assignment_stays_on_its_own_node(nodes: Nodes) -> None:
    """Who works on a case is each node's own business: a claim is recorded at once (200, no
    message), never reaches the other node, and the case's exchange goes on around it."""
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    sent = len(await pl.exchange.messages(case_id))
    ua_before = await events(ua, case_id)
    claimed = await pl.http.post(f"/cases/{case_id}/claim", json={}, headers=pl.as_("anna.pl"))
    assert claimed.status_code == 200, claimed.text
    assert claimed.json().get("sending") is None
    assert [e["type"] for e in claimed.json()["events"]] == ["CaseAssigned"]
    olena = await ua.http.post(f"/cases/{case_id}/claim", json={}, headers=ua.as_("olena.ua"))
    assert olena.status_code == 200, olena.text
    assert len(await pl.exchange.messages(case_id)) == sent  # nothing sent either way
    assert await events(ua, case_id) == [*ua_before, "CaseAssigned"]  # UA's own claim only
    assert (await pl.view(case_id)).state.assignees == {"requesting": "anna.pl"}
    assert (await ua.view(case_id)).state.assignees == {"requested": "olena.ua"}
    # a crossing command afterwards is delivered and applied on both nodes as ever
    accepted = await ua.http.post(f"/cases/{case_id}/accept", json={}, headers=ua.as_("olena.ua"))
    assert accepted.status_code == 202, accepted.text
    await reaches(pl, case_id, "accepted")
    await reaches(ua, case_id, "accepted")
    assert (await pl.view(case_id)).state.assignees == {"requesting": "anna.pl"}
    await chains_verify(nodes, case_id)
