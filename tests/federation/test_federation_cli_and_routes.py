"""What a federated node shows the world and its auditors: its descriptor and the JSON Schemas of
messages and receipts (each kept message validates against its schema), a problem for a body that
is not a message, and `readmit audit verify --peer` failing a history rewritten after the peer
signed its head, where plain verification passes."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import jsonschema
import pytest
from factories import application_body
from federation_nodes import Node, Nodes, eventually
from tampering import rewrite_event

from adapters.federation.envelope import (
    HeadsRequest,
    b64url_decode,
    sign_heads_request,
    verify_heads,
)
from adapters.federation.identity import NodeIdentity
from adapters.temporal.codec import Keyring

pytestmark = pytest.mark.temporal
PAYLOAD_KEY = Keyring.new_key()


@pytest.fixture
def keyring() -> Keyring:
    """The nodes' payload key, known to this module so that a CLI process can read histories."""
    return Keyring.from_encoded({"fed-1": PAYLOAD_KEY}, "fed-1")


async def submitted(nodes: Nodes) -> str:
    pl = nodes["PL"]
    now = datetime.now(UTC)
    opened = await pl.http.post(
        "/cases",
        json=application_body(knowledge_at=(now - timedelta(days=2)).isoformat()),
        headers=pl.as_("anna.pl"),
    )
    case_id: str = opened.json()["case_id"]
    await pl.http.post(f"/cases/{case_id}/submit", json={}, headers=pl.as_("anna.pl"))

    async def receipted() -> bool:
        return bool(await pl.exchange.receipts(case_id))

    await eventually(receipted, "PL holds UA's receipt")
    return case_id


async def test_a_node_serves_its_descriptor_and_the_schemas(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    described = (await pl.http.get("/federation/descriptor")).json()
    assert described["state"] == "PL"
    assert {k["kid"] for k in described["keys"]} == {
        pl.identity.signing_kid,
        pl.identity.encryption_kid,
    }
    message_schema = (await ua.http.get("/federation/schemas/message.json")).json()
    receipt_schema = (await ua.http.get("/federation/schemas/receipt.json")).json()
    case_id = await submitted(nodes)
    for node, kept in ((ua, await ua.exchange.messages(case_id)),):
        for message in kept:
            payload = json.loads(b64url_decode(message.token.split(".")[1]))
            jsonschema.validate(payload, message_schema)
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate({**payload, "seq": 0}, message_schema)
        assert kept, node.state
    for receipt in await pl.exchange.receipts(case_id):
        jsonschema.validate(json.loads(b64url_decode(receipt.token.split(".")[1])), receipt_schema)
    junk = await ua.http.post(
        "/federation/messages",
        content=b"not a message",
        headers={"content-type": "application/jose"},
    )
    assert junk.status_code == 400
    assert junk.headers["content-type"].startswith("application/problem+json")


def readmit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "readmit.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def cli_env(node: Node, nodes: Nodes, home: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "READMIT_HOME": str(home),
        "DATABASE_URL": node.dsn,
        "READMIT_TEMPORAL_ADDRESS": nodes.env.client.service_client.config.target_host,
        "READMIT_TEMPORAL_NAMESPACE": node.state.lower(),
        "READMIT_PAYLOAD_KEYS": json.dumps({"fed-1": PAYLOAD_KEY}),
        "READMIT_PAYLOAD_KEY_ID": "fed-1",
        "READMIT_NODE_STATE": node.state,
        "READMIT_NODE_URL": node.settings.node_url or "",
    }


async def test_verify_peer_finds_a_history_rewritten_after_the_peer_signed_it(
    nodes: Nodes, tmp_path: Path
) -> None:
    pl = nodes["PL"]
    case_id = await submitted(nodes)
    env = cli_env(pl, nodes, tmp_path)
    sound = await asyncio.to_thread(readmit, env, "audit", "verify", case_id, "--peer", "--json")
    assert sound.returncode == 0, sound.stdout + sound.stderr
    assert json.loads(sound.stdout)["cases"][0]["peer"]["ok"] is True
    await rewrite_event(pl.pool, case_id, 1, note=base64.b64encode(b"rewritten").decode())
    plain = await asyncio.to_thread(readmit, env, "audit", "verify", case_id)
    assert plain.returncode == 0, plain.stdout + plain.stderr  # the chain was recomputed
    caught = await asyncio.to_thread(readmit, env, "audit", "verify", case_id, "--peer", "--json")
    assert caught.returncode == 1, caught.stdout + caught.stderr
    report = json.loads(caught.stdout)["cases"][0]["peer"]
    assert not report["ok"] and {f["kind"] for f in report["findings"]} == {"rewritten"}
    assert "UA's signed receipt" in report["detail"]
    single = await asyncio.to_thread(
        readmit, {**env, "READMIT_NODE_STATE": ""}, "audit", "verify", case_id, "--peer"
    )
    assert single.returncode == 2 and "READMIT_NODE_STATE" in single.stderr


async def test_a_node_answers_heads_to_its_peer_only(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted(nodes)
    jose = {"content-type": "application/jose"}
    unsigned = await ua.http.post("/federation/heads", content=b"x.y.z", headers=jose)
    assert unsigned.status_code == 403
    assert unsigned.headers["content-type"].startswith("application/problem+json")
    now = datetime.now(UTC)
    others = "DE-FR-2026-000001"

    def ask(at: datetime, sender: NodeIdentity = pl.identity) -> str:
        request = HeadsRequest(
            request_id=uuid4(), sender="PL", recipient="UA", at=at, case_ids=(case_id, others)
        )
        return sign_heads_request(request, sender.signing_key, sender.signing_kid)

    answer = await ua.http.post("/federation/heads", content=ask(now), headers=jose)
    assert answer.status_code == 200, answer.text
    key = ua.identity.signing_key.public_key()
    body = verify_heads(answer.text, lambda _kid: key, 1 << 20).body
    assert [c.case_id for c in body.cases] == [case_id]  # nothing about other states' cases
    # nor about UA's own drafts for PL, which have not crossed: asked, they are not there
    draft = await ua.http.post(
        "/cases",
        json=application_body(
            agreement="EU-UA", requested="PL", category="own_national",
            knowledge_at=(now - timedelta(days=1)).isoformat(),
        ),
        headers=ua.as_("olena.ua"),
    )  # fmt: skip
    assert draft.status_code == 201, draft.text
    drafted = draft.json()["case_id"]
    request = HeadsRequest(
        request_id=uuid4(), sender="PL", recipient="UA", at=now, case_ids=(drafted,)
    )
    token = sign_heads_request(request, pl.identity.signing_key, pl.identity.signing_kid)
    quiet = await ua.http.post("/federation/heads", content=token, headers=jose)
    assert verify_heads(quiet.text, lambda _kid: key, 1 << 20).body.cases == ()
    stale = await ua.http.post(
        "/federation/heads", content=ask(now - timedelta(hours=1)), headers=jose
    )
    assert stale.status_code == 403
    stranger = NodeIdentity.create("PL", "https://pl.elsewhere.test")
    forged = await ua.http.post("/federation/heads", content=ask(now, stranger), headers=jose)
    assert forged.status_code == 403
