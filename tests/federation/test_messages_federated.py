"""Messages between two nodes: a message crosses like any command after the submission (202
while on its way), each node shows it with its author and time once the receipt is back, the
other node's officers are notified, and the texts travel sealed (HPKE to the peer node, then
the receiving node's own case key): neither store holds them in the clear."""

from __future__ import annotations

from typing import Any

import pytest
from federation_nodes import Node, Nodes, eventually
from test_exchange_failures import chains_verify, submitted_case

pytestmark = pytest.mark.temporal

NOTE = "The person's brother Taras lives in Rivne and may hold his passport"
ASK = "Please send a copy of Taras's residence registration"
ANSWER = "Registration at vul. Soborna 12, Rivne: copy attached to the file"


async def conversation(node: Node, case_id: str, user: str, count: int) -> list[dict[str, Any]]:
    """The node's conversation once it holds `count` messages (receipts take a moment)."""

    async def shown() -> list[dict[str, Any]] | None:
        answer = await node.http.get(f"/cases/{case_id}/messages", headers=node.as_(user))
        assert answer.status_code == 200, answer.text
        messages: list[dict[str, Any]] = answer.json()["messages"]
        return messages if len(messages) == count else None

    found: list[dict[str, Any]] = await eventually(shown, f"{count} messages on {node.state}")
    return found


async def send(node: Node, case_id: str, user: str, **body: Any) -> str:
    """Send once the node's outbox is empty (a node takes no command while one is in flight)."""

    async def sent() -> str | None:
        answer = await node.http.post(
            f"/cases/{case_id}/messages", json=body, headers=node.as_(user)
        )
        if answer.status_code == 409 and "MessageInFlight" in answer.text:
            return None
        assert answer.status_code == 202, answer.text  # on its way to the other node
        assert answer.json()["sending"]["recipient"] != node.state
        message_id: str = answer.json()["message_id"]
        return message_id

    found: str = await eventually(sent, f"a message sent from {node.state}")
    return found


async def test_a_conversation_across_two_nodes(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)

    note_id = await send(pl, case_id, "anna.pl", kind="note", text=NOTE)
    (on_ua,) = await conversation(ua, case_id, "olena.ua", 1)
    (on_pl,) = await conversation(pl, case_id, "anna.pl", 1)
    for shown in (on_ua, on_pl):
        assert (shown["message_id"], shown["kind"], shown["state"]) == (note_id, "note", "PL")
        assert shown["author"] == {"user_id": "anna.pl", "state": "PL", "role": "officer"}
        assert shown["text"] == NOTE
    assert on_ua["at"] == on_pl["at"]  # recorded at the receipt's instant on both nodes

    ask_id = await send(
        ua, case_id, "olena.ua", kind="request_information", text=ASK, answers=note_id
    )
    await conversation(pl, case_id, "anna.pl", 2)
    await send(pl, case_id, "anna.pl", kind="answer", text=ANSWER, answers=ask_id)
    for node, user in ((ua, "olena.ua"), (pl, "anna.pl")):
        messages = await conversation(node, case_id, user, 3)
        assert [(m["kind"], m["author"]["user_id"], m["text"]) for m in messages] == [
            ("note", "anna.pl", NOTE),
            ("request_information", "olena.ua", ASK),
            ("answer", "anna.pl", ANSWER),
        ]
        assert messages[1]["answered"] is True and messages[2]["answers"] == ask_id

    # each node's officers are told of the other's messages; no text leaves in a notice
    for node, state, count in ((ua, "UA", 2), (pl, "PL", 1)):
        rows = await node.services.pool.fetch(
            "SELECT subject FROM notifications WHERE case_id = $1 AND kind = 'CaseMessageSent'"
            " AND state = $2",
            case_id,
            state,
        )
        assert len({r["subject"] for r in rows}) == count, (state, rows)
        assert not any(t in r["subject"] for r in rows for t in (NOTE, ASK, ANSWER))
    # the texts are sealed in both stores and on the wire (the signed messages kept as sent)
    for node in (pl, ua):
        stored = await node.services.pool.fetch(
            "SELECT data::text FROM case_events WHERE stream_id = $1"
            " UNION ALL SELECT token FROM federation_messages WHERE case_id = $1",
            case_id,
        )
        assert not any(t in r[0] for r in stored for t in (NOTE, ASK, ANSWER)), node.state
    await chains_verify(nodes, case_id)
