"""Attachments between federated nodes: a file added to a shared case travels with its
`AddAttachment` (HPKE-encrypted in the message like all personal data) and each node keeps it
sealed with its own case key; a draft's file stays with the requesting node; a file too large
for one federation message is refused before anything is written (docs/federation.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from attachment_files import pdf, png
from factories import application_body
from federation_nodes import Node, Nodes, eventually
from test_exchange_failures import chains_verify, events, submitted_case

from adapters.attachments.crossing import max_crossing_bytes
from adapters.attachments.store import BlobKey

pytestmark = pytest.mark.temporal


async def receipted(node: Node, case_id: str) -> None:
    async def done() -> bool:
        exchange = (await node.view(case_id)).exchange
        return exchange is not None and not exchange.outbox

    await eventually(done, f"{node.state}'s outbox of {case_id} empty")


async def attach(node: Node, case_id: str, who: str, name: str, data: bytes) -> Any:
    return await node.http.post(
        f"/cases/{case_id}/attachments",
        files={"file": (name, data, "application/octet-stream")},
        headers=node.as_(who),
    )


async def test_a_shared_cases_file_reaches_the_other_node_sealed_with_its_key(
    nodes: Nodes,
) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    scan = png(31)
    added = await attach(pl, case_id, "anna.pl", "scan.png", scan)
    assert added.status_code == 202, added.text  # on its way: in effect once UA receipts it
    attachment_id = added.json()["attachment_id"]
    assert added.json()["sending"]["recipient"] == "UA"
    await receipted(pl, case_id)
    assert (await events(ua, case_id))[-1] == "AttachmentAdded"

    olena = ua.as_("olena.ua")
    listed = await ua.http.get(f"/cases/{case_id}/attachments", headers=olena)
    assert [a["attachment_id"] for a in listed.json()["items"]] == [attachment_id]
    got = await ua.http.get(f"/cases/{case_id}/attachments/{attachment_id}", headers=olena)
    assert (got.status_code, got.content) == (200, scan)
    # each node keeps the file under its own case key: two different seals of the same bytes
    key = BlobKey(case_id, added.json()["sha256"])
    pl_seal = await pl.services.attachments.get(key)
    ua_seal = await ua.services.attachments.get(key)
    assert pl_seal is not None and ua_seal is not None and pl_seal != ua_seal
    assert scan not in ua_seal

    # and the other way: UA's file reaches PL
    annex = pdf("UA's annex")
    theirs = await attach(ua, case_id, "olena.ua", "annex.pdf", annex)
    assert theirs.status_code == 202, theirs.text
    await receipted(ua, case_id)
    back = await pl.http.get(theirs.json()["download"], headers=pl.as_("anna.pl"))
    assert (back.status_code, back.content) == (200, annex)
    await chains_verify(nodes, case_id)


async def test_a_drafts_file_stays_and_a_shared_cases_must_fit_one_message(nodes: Nodes) -> None:
    pl = nodes["PL"]
    opened = await pl.http.post(
        "/cases",
        json=application_body(knowledge_at=(datetime.now(UTC) - timedelta(days=2)).isoformat()),
        headers=pl.as_("anna.pl"),
    )
    draft = opened.json()["case_id"]
    local = await attach(pl, draft, "anna.pl", "scan.png", png(32))
    assert local.status_code == 201, local.text  # a draft's: recorded at once, not sent
    assert await pl.exchange.messages(draft) == []

    case_id = await submitted_case(nodes)
    limit = max_crossing_bytes(pl.settings.federation_max_message_bytes)
    big = png(33, size=1024)
    big += bytes(limit + 1 - len(big)) if len(big) <= limit else b""
    refused = await attach(pl, case_id, "anna.pl", "big.png", big)
    assert refused.status_code == 413, refused.text
    assert "shared with the other node" in refused.json()["detail"]
    assert (
        await pl.pool.fetchval("SELECT count(*) FROM case_attachments WHERE case_id = $1", case_id)
        == 0
    )
    # a file of exactly the limit fits in one message: it is sent, received and kept
    largest = big[:limit]
    sent = await attach(pl, case_id, "anna.pl", "largest.png", largest)
    assert sent.status_code == 202, sent.text
    await receipted(pl, case_id)
    ua = nodes["UA"]
    got = await ua.http.get(sent.json()["download"], headers=ua.as_("olena.ua"))
    assert (got.status_code, got.content) == (200, largest)


async def test_a_file_the_peer_refuses_leaves_no_stored_bytes_on_the_sender(
    nodes: Nodes,
) -> None:
    """The sender stores the sealed bytes before its 202; when the peer refuses the crossing
    `AddAttachment` (here: UA erased its copy's personal data, so it cannot keep the file), the
    sender's case records nothing and its stored bytes go too. Bytes shared with an attachment
    the case did record stay."""
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    kept = png(34)
    first = await attach(pl, case_id, "anna.pl", "kept.png", kept)
    assert first.status_code == 202, first.text
    await receipted(pl, case_id)

    await ua.services.vault.erase([case_id], datetime.now(UTC), "test: the peer refuses")
    scan = png(35)
    sent = await attach(pl, case_id, "anna.pl", "scan.png", scan)
    assert sent.status_code == 202, sent.text
    sha = sent.json()["sha256"]
    assert await pl.services.attachments.get(BlobKey(case_id, sha)) is not None  # until refused
    await receipted(pl, case_id)

    exchange = (await pl.view(case_id)).exchange
    assert exchange is not None
    assert [(r.command, r.code) for r in exchange.refused] == [("add_attachment", "malformed")]
    assert await pl.services.attachments.get(BlobKey(case_id, sha)) is None
    rows = await pl.pool.fetch("SELECT sha256 FROM case_attachments WHERE case_id = $1", case_id)
    assert [r["sha256"] for r in rows] == [first.json()["sha256"]]  # the recorded one stays
    assert (await events(pl, case_id)).count("AttachmentAdded") == 1
    assert await pl.services.attachments.get(BlobKey(case_id, first.json()["sha256"]))
