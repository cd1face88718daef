"""Printable documents on federated nodes: each state prints from its own copy of a shared
case, nothing crosses to the other node, and the download is in the printing node's own
disclosure log."""

from __future__ import annotations

from io import BytesIO

import asyncpg
import pytest
from federation_nodes import Nodes
from pypdf import PdfReader
from test_exchange_failures import events, reaches, submitted_case

pytestmark = pytest.mark.temporal


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


async def logged(pool: asyncpg.Pool, case_id: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT user_id FROM disclosure_log WHERE case_id = $1 AND purpose LIKE 'document%'"
        " ORDER BY id",
        case_id,
    )
    return [r["user_id"] for r in rows]


async def test_each_node_prints_from_its_own_copy(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    sent = len(await pl.exchange.messages(case_id))
    ua_events = await events(ua, case_id)
    path = f"/cases/{case_id}/documents/application.pdf"
    for node, officer in ((pl, "anna.pl"), (ua, "olena.ua")):
        answer = await node.http.get(path, headers=node.as_(officer))
        assert answer.status_code == 200, answer.text
        text = text_of(answer.content)
        assert "SHEVCHENKO Oleksandr" in text and "ШЕВЧЕНКО Олександр" in text
    assert await logged(pl.pool, case_id) == ["anna.pl"]
    assert await logged(ua.pool, case_id) == ["olena.ua"]
    assert len(await pl.exchange.messages(case_id)) == sent  # printing sends nothing
    assert await events(ua, case_id) == ua_events
    reply = await ua.http.get(f"/cases/{case_id}/documents/reply.pdf", headers=ua.as_("olena.ua"))
    assert reply.status_code == 409, reply.text
    accepted = await ua.http.post(f"/cases/{case_id}/accept", json={}, headers=ua.as_("olena.ua"))
    assert accepted.status_code == 202, accepted.text
    await reaches(pl, case_id, "accepted")
    reply = await pl.http.get(f"/cases/{case_id}/documents/reply.pdf", headers=pl.as_("anna.pl"))
    assert reply.status_code == 200, reply.text  # the reply, as it arrived on PL's node
    assert "Wniosek został przyjęty." in text_of(reply.content)
