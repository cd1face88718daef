"""Reading a recorded Temporal history as text: every payload decrypted with a payload keyring.

Tests use it to show what the history holds once the payload encryption is taken off.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory

from adapters.temporal.codec import ENCODING, KEY_ID, Keyring


def history_plaintext(history: WorkflowHistory, keyring: Keyring) -> str:
    """Every payload of the history decrypted with the payload keyring, as one text."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            meta = node.get("metadata")
            if isinstance(meta, dict) and "data" in node and KEY_ID in meta:
                encoding = base64.b64decode(meta.get("encoding", ""))
                assert encoding == ENCODING
                key_id = base64.b64decode(meta[KEY_ID]).decode()
                inner = Payload.FromString(keyring.decrypt(key_id, base64.b64decode(node["data"])))
                found.append(inner.data.decode())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(history.to_json()))
    return "\n".join(found)
