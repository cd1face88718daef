"""The data converter: pydantic payloads, encrypted with AES-GCM before they reach Temporal.

Every payload (workflow inputs, update arguments, activity inputs and results, query results) is
encrypted with the active key of a keyring; the key id travels in the payload's metadata, so
older keys keep decrypting history written before a rotation. Rotation: add the new key, make it
active everywhere, keep the old one until no running history needs it. No personal data is stored
in Temporal's history in plaintext.

Failures are encrypted too: their messages and stack traces travel in the failure's encoded
attributes (`DefaultFailureConverterWithEncodedAttributes`), a payload the codec encrypts; the
history shows only "Encoded failure".

Decoding refuses what this codec did not encrypt: a payload sent in clear (by a client without
the key, `temporal workflow start --input`, the web UI) raises `PlaintextPayloadError` instead of
reaching a workflow or activity as if the key's holder had written it. What Temporal writes in
clear never reaches the codec on the way to a workflow or a client: search attributes are not
decoded by it (memos are, and ours are encrypted like any payload), the details of markers
(`workflow.patched`, local activities) are written and read by the SDK's core alone, and the
failures the server makes (timeouts, terminations) carry their text outside payloads. Showing a
whole history (the remote codec endpoint, for the web UI and the CLI) meets those markers, so
it passes payloads in clear through as they are (`refuse_plain=False`).
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Mapping, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from adapters import encoding

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class KeyringError(ValueError):
    """A keyring that cannot be used: no keys, bad key material, unknown active key."""


class Keyring:
    """AES-256 keys by id, one of them active for encryption."""

    def __init__(self, keys: Mapping[str, bytes], active: str, what: str = "payload") -> None:
        self.what = what
        if not keys:
            raise KeyringError(f"the {what} keyring has no keys")
        if active not in keys:
            raise KeyringError(f"the active {what} key {active!r} is not in the keyring")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise KeyringError(f"{what} key {key_id!r} must be 32 bytes (AES-256)")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.active = active

    @classmethod
    def from_encoded(cls, keys: Mapping[str, str], active: str, what: str = "payload") -> Keyring:
        """Keys given as URL-safe or standard base64 strings (as in settings)."""
        decoded = {}
        for key_id, text in keys.items():
            try:
                decoded[key_id] = encoding.decode(text)
            except encoding.KeyEncodingError:
                raise KeyringError(f"{what} key {key_id!r} is not base64") from None
        return cls(decoded, active, what)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    @staticmethod
    def new_key() -> str:
        return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")

    def encrypt(self, plaintext: bytes, aad: bytes | None = None) -> tuple[str, bytes]:
        """(active key id, nonce + ciphertext); `aad` binds the blob to its context."""
        nonce = os.urandom(NONCE_BYTES)
        return self.active, nonce + self._ciphers[self.active].encrypt(nonce, plaintext, aad)

    def decrypt(self, key_id: str, blob: bytes, aad: bytes | None = None) -> bytes:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise KeyringError(f"{self.what} encrypted with unknown key {key_id!r}")
        return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)


class PlaintextPayloadError(ValueError):
    """A payload not encrypted by this codec, refused on decoding."""


class EncryptionCodec(PayloadCodec):
    """AES-GCM over each whole payload; `refuse_plain=False` passes payloads in clear through
    on decoding (to show a history, never to run one)."""

    def __init__(self, keyring: Keyring, *, refuse_plain: bool = True) -> None:
        self.keyring = keyring
        self.refuse_plain = refuse_plain

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            key_id, blob = self.keyring.encrypt(payload.SerializeToString())
            out.append(Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=blob))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                if self.refuse_plain:
                    raise PlaintextPayloadError(
                        "a payload was not encrypted by Readmit's codec: refused"
                    )
                out.append(payload)
                continue
            key_id = payload.metadata[KEY_ID].decode()
            out.append(Payload.FromString(self.keyring.decrypt(key_id, payload.data)))
        return out


def data_converter(keyring: Keyring) -> DataConverter:
    """The one converter used by workers, API, CLI, tests and the replayer: pydantic payloads,
    encrypted, and failures whose message and stack trace are encrypted with them."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keyring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
