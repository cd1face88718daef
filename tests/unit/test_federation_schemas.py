"""The published JSON Schemas of messages and receipts describe what is really signed: a signed
payload validates against its schema with an independent validator, a bad one does not."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from jsonschema import Draft202012Validator

from adapters.federation.envelope import (
    ChainHead,
    MessageActor,
    MessageBody,
    ReceiptBody,
    Refusal,
    sign_message,
    sign_receipt,
)
from adapters.federation.hpke import encrypt_to, message_aad
from adapters.federation.schemas import message_schema, receipt_schema

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def payload_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    data = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    assert isinstance(data, dict)
    return data


def signed_message() -> dict[str, Any]:
    message_id = uuid4()
    aad = message_aad(message_id, "PL-UA-2027-000123", "PL", "UA")
    body = MessageBody(
        message_id=message_id,
        case_id="PL-UA-2027-000123",
        sender="PL",
        recipient="UA",
        seq=4,
        peer_seen=2,
        sent_at=AT,
        kind="command",
        command_name="extend_transfer",
        actor=MessageActor(user_id="officer-1", state="PL", role="officer"),
        payload=encrypt_to(X25519PrivateKey.generate().public_key(), "enc-kid", b"{}", aad),
        head=ChainHead(version=7, hash="0f" * 32),
    )
    return payload_of(sign_message(body, Ed25519PrivateKey.generate(), "sig-kid"))


def signed_receipt() -> dict[str, Any]:
    body = ReceiptBody(
        message_id=uuid4(),
        content_hash="a1" * 32,
        sender="UA",
        recipient="PL",
        received_at=AT,
        outcome="refused",
        refusal=Refusal(code="out_of_order", detail="expected seq 3", retryable=True),
        head=None,
        echoed_head=ChainHead(version=0, hash="00" * 32),
        events=(),
    )
    return payload_of(sign_receipt(body, Ed25519PrivateKey.generate(), "sig-kid"))


def test_the_schemas_are_valid_2020_12_schemas_named_by_their_typ() -> None:
    for schema, typ in ((message_schema(), "message"), (receipt_schema(), "receipt")):
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"https://readmit.example/schemas/readmit.{typ}-1.json"
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["properties"]["typ"]["const"] == f"readmit.{typ}/1"
        assert "typ" in schema["required"]


def test_a_signed_message_validates_and_bad_ones_do_not() -> None:
    validator = Draft202012Validator(message_schema())
    good = signed_message()
    validator.validate(good)
    for bad in (
        {**good, "seq": 0},
        {**good, "typ": "readmit.receipt/1"},
        {**good, "sender": "pl"},
        {**good, "unexpected": True},
        {**good, "head": {"version": 1, "hash": "not hex"}},
        {**good, "actor": {**good["actor"], "role": "king"}},
        {k: v for k, v in good.items() if k != "head"},  # null, but never absent
    ):
        assert not validator.is_valid(bad), bad


def test_a_signed_receipt_validates_and_bad_ones_do_not() -> None:
    validator = Draft202012Validator(receipt_schema())
    good = signed_receipt()
    validator.validate(good)
    event = {
        "event_id": str(uuid4()),
        "version": 1,
        "type": "LimitExpired",
        "at": "2027-03-01T09:00:00Z",
    }
    validator.validate({**good, "outcome": "applied", "refusal": None, "events": [event]})
    for bad in (
        {**good, "outcome": "lost"},
        {**good, "content_hash": "ab"},
        {**good, "refusal": {**good["refusal"], "detail": "x" * 501}},
        {**good, "events": [{**event, "version": 0}]},
        {k: v for k, v in good.items() if k != "events"},
    ):
        assert not validator.is_valid(bad), bad


@pytest.mark.parametrize("schema", [message_schema, receipt_schema])
def test_the_schemas_are_json_as_served(schema: Any) -> None:
    """What a node serves at its schema URL: plain JSON, stable from call to call."""
    assert json.loads(json.dumps(schema())) == schema()
