"""Attachments on federated nodes: for now a file stays on the node that received it. Its
`AttachmentAdded` is that node's own event (`CommandKind.local`, like an assignment), nothing
is sent to the peer, the peer's officers neither list nor download it, and the shared case's
exchange goes on around it (docs/federation.md, "What stays on its own node")."""

from __future__ import annotations

import pytest
from attachment_files import pdf, png
from federation_nodes import Nodes
from test_exchange_failures import chains_verify, events, reaches, submitted_case

pytestmark = pytest.mark.temporal


async def test_an_attachment_stays_on_the_node_that_received_it(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    sent = len(await pl.exchange.messages(case_id))
    ua_before = await events(ua, case_id)
    scan = png(31)
    added = await pl.http.post(
        f"/cases/{case_id}/attachments",
        files={"file": ("scan.png", scan, "image/png")},
        headers=pl.as_("anna.pl"),
    )
    assert added.status_code == 201, added.text  # recorded at once: no message to wait for
    attachment_id = added.json()["attachment_id"]
    assert len(await pl.exchange.messages(case_id)) == sent  # nothing sent to UA
    assert await events(ua, case_id) == ua_before
    got = await pl.http.get(added.json()["download"], headers=pl.as_("anna.pl"))
    assert (got.status_code, got.content) == (200, scan)

    olena = ua.as_("olena.ua")
    listed = await ua.http.get(f"/cases/{case_id}/attachments", headers=olena)
    assert listed.status_code == 200 and listed.json()["items"] == []
    missing = await ua.http.get(f"/cases/{case_id}/attachments/{attachment_id}", headers=olena)
    assert missing.status_code == 404 and missing.json()["type"].endswith("attachment-not-found")
    theirs = await ua.http.post(
        f"/cases/{case_id}/attachments",
        files={"file": ("annex.pdf", pdf("UA's annex"), "application/pdf")},
        headers=olena,
    )
    assert theirs.status_code == 201, theirs.text
    assert (await ua.view(case_id)).state.attachments[0].side.value == "requested"

    # a crossing command afterwards is delivered and applied on both nodes as ever
    accepted = await ua.http.post(f"/cases/{case_id}/accept", json={}, headers=olena)
    assert accepted.status_code == 202, accepted.text
    await reaches(pl, case_id, "accepted")
    await reaches(ua, case_id, "accepted")
    assert [a.attachment_id for a in (await pl.view(case_id)).state.attachments] == [attachment_id]
    await chains_verify(nodes, case_id)
