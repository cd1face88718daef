"""The payload codec: AES-GCM with key ids, so keys rotate without downtime."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from adapters.temporal.codec import (
    ENCODING,
    EncryptionCodec,
    Keyring,
    KeyringError,
    PlaintextPayloadError,
    data_converter,
)


def payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_round_trip_hides_plaintext() -> None:
    codec = EncryptionCodec(Keyring({"k1": os.urandom(32)}, "k1"))
    [encoded] = await codec.encode([payload('{"surname":"Shevchenko"}')])
    assert encoded.metadata["encoding"] == ENCODING and b"Shevchenko" not in encoded.data
    [decoded] = await codec.decode([encoded])
    assert decoded.data == b'{"surname":"Shevchenko"}'


async def test_rotation_keeps_old_history_readable() -> None:
    old, new = os.urandom(32), os.urandom(32)
    before = EncryptionCodec(Keyring({"k1": old}, "k1"))
    [written_before] = await before.encode([payload("before rotation")])
    after = EncryptionCodec(Keyring({"k1": old, "k2": new}, "k2"))
    [written_after] = await after.encode([payload("after rotation")])
    assert written_after.metadata["encryption-key-id"] == b"k2"
    decoded = await after.decode([written_before, written_after])
    assert [p.data for p in decoded] == [b"before rotation", b"after rotation"]
    # retiring k1 too early is detected, not silently garbled
    retired = EncryptionCodec(Keyring({"k2": new}, "k2"))
    with pytest.raises(KeyringError, match="unknown key 'k1'"):
        await retired.decode([written_before])


async def test_tampered_payload_is_rejected() -> None:
    codec = EncryptionCodec(Keyring({"k1": os.urandom(32)}, "k1"))
    [encoded] = await codec.encode([payload("x")])
    tampered = Payload(
        metadata=encoded.metadata, data=encoded.data[:-1] + bytes([encoded.data[-1] ^ 1])
    )
    with pytest.raises(InvalidTag):
        await codec.decode([tampered])


def test_keyring_validation() -> None:
    with pytest.raises(KeyringError):
        Keyring({}, "k1")
    with pytest.raises(KeyringError):
        Keyring({"k1": b"short"}, "k1")
    with pytest.raises(KeyringError):
        Keyring({"k1": os.urandom(32)}, "k2")
    assert Keyring.from_encoded({"k": Keyring.new_key()}, "k").active == "k"
    assert data_converter(Keyring({"k": os.urandom(32)}, "k")).payload_codec is not None


async def test_a_payload_it_did_not_encrypt_is_refused() -> None:
    """A client without the key (or `temporal workflow start --input`) sends JSON in clear: it
    must not reach a workflow as if the key's holder had written it."""
    codec = EncryptionCodec(Keyring({"k1": os.urandom(32)}, "k1"))
    [encoded] = await codec.encode([payload("x")])
    with pytest.raises(PlaintextPayloadError):
        await codec.decode([encoded, payload('{"command":"accept"}')])
    # showing a history (the codec endpoint) passes it through as it is
    shown = EncryptionCodec(codec.keyring, refuse_plain=False)
    assert [p.data for p in await shown.decode([encoded, payload("y")])] == [b"x", b"y"]


async def test_failure_messages_and_stack_traces_travel_encrypted() -> None:
    converter = data_converter(Keyring({"k1": os.urandom(32)}, "k1"))
    failure = Failure()
    try:
        raise ApplicationError("registry said: no person Shevchenko", type="Lookup")
    except ApplicationError as error:
        await converter.encode_failure(error, failure)
    assert failure.message == "Encoded failure" and not failure.stack_trace
    assert failure.encoded_attributes.metadata["encoding"] == ENCODING
    assert b"Shevchenko" not in failure.SerializeToString()
    decoded = await converter.decode_failure(failure)
    assert isinstance(decoded, ApplicationError)
    assert decoded.message == "registry said: no person Shevchenko" and decoded.type == "Lookup"
