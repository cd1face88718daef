"""The JSON Schemas of the signed bodies, as each node serves them to its peers and auditors.

Generated from the models that sign and verify (`adapters.federation.envelope`), in their
serialization form (what the JWS payload holds: every member required, the `typ` included), so
the published format cannot drift from the one enforced. A schema's `$id` names its body's
`typ`; a new version of a body is a new `typ` and so a new `$id`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from adapters.federation.envelope import MESSAGE_TYP, RECEIPT_TYP, MessageBody, ReceiptBody

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE = "https://readmit.example/schemas/"


def schema_id(typ: str) -> str:
    """`readmit.message/1` -> `https://readmit.example/schemas/readmit.message-1.json`."""
    return f"{BASE}{typ.replace('/', '-')}.json"


def _schema(model: type[BaseModel], typ: str) -> dict[str, Any]:
    return {
        "$schema": DIALECT,
        "$id": schema_id(typ),
        **model.model_json_schema(mode="serialization"),
    }


def message_schema() -> dict[str, Any]:
    """The JSON Schema of a `readmit.message/1` body (a `readmit.message+jws` payload)."""
    return _schema(MessageBody, MESSAGE_TYP)


def receipt_schema() -> dict[str, Any]:
    """The JSON Schema of a `readmit.receipt/1` body (a `readmit.receipt+jws` payload)."""
    return _schema(ReceiptBody, RECEIPT_TYP)
