"""Federation messages and receipts: signed as canonical JSON in a JWS, verified or refused with
a stable code, their personal data HPKE-encrypted to the receiving node. Every test makes its
own keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from factories import open_case
from pydantic import ValidationError

from adapters.federation.envelope import (
    ChainHead,
    EncryptedPart,
    EnvelopeRefused,
    MessageActor,
    MessageBody,
    ReceiptBody,
    ReceiptEvent,
    Refusal,
    canonical,
    content_hash,
    peek_sender,
    sign_message,
    sign_receipt,
    unverified_header,
    verify_message,
    verify_receipt,
)
from adapters.federation.hpke import decrypt_with, encrypt_to, message_aad
from domain.commands import COMMAND_ADAPTER

MAX = 1_048_576
SENT = datetime(2027, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
HEAD = ChainHead(version=3, hash="ab" * 32)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass
class Node:
    """One node's fresh keys and the kids its peers know them by."""

    sign: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    crypt: X25519PrivateKey = field(default_factory=X25519PrivateKey.generate)
    kid: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    enc_kid: str = field(default_factory=lambda: secrets.token_urlsafe(32))


class UnknownKey(LookupError):
    """Stands for the peer directory's refusal of a kid it does not know."""


def directory(*nodes: Node) -> Callable[[str], Ed25519PublicKey]:
    keys = {n.kid: n.sign.public_key() for n in nodes}

    def key_for(kid: str) -> Ed25519PublicKey:
        if kid not in keys:
            raise UnknownKey(kid)
        return keys[kid]

    return key_for


def message(to: Node, **changes: Any) -> MessageBody:
    message_id = changes.pop("message_id", uuid4())
    aad = message_aad(message_id, "PL-UA-2027-000123", "PL", "UA")
    data: dict[str, Any] = {
        "message_id": message_id,
        "case_id": "PL-UA-2027-000123",
        "sender": "PL",
        "recipient": "UA",
        "seq": 1,
        "peer_seen": 0,
        "sent_at": SENT,
        "kind": "command",
        "command_name": "submit",
        "actor": MessageActor(user_id="officer-1", state="PL", role="officer"),
        "payload": encrypt_to(to.crypt.public_key(), to.enc_kid, b'{"command":"submit"}', aad),
        "head": HEAD,
        **changes,
    }
    return MessageBody.model_validate(data)


def receipt(**changes: Any) -> ReceiptBody:
    data: dict[str, Any] = {
        "message_id": uuid4(),
        "content_hash": "cd" * 32,
        "sender": "UA",
        "recipient": "PL",
        "received_at": SENT + timedelta(seconds=2),
        "outcome": "applied",
        "refusal": None,
        "head": ChainHead(version=2, hash="ef" * 32),
        "echoed_head": HEAD,
        "events": (
            ReceiptEvent(event_id=uuid4(), version=2, type="ApplicationSubmitted", at=SENT),
        ),
        **changes,
    }
    return ReceiptBody.model_validate(data)


def hand_signed(header: dict[str, Any], payload: bytes, key: Ed25519PrivateKey) -> str:
    """A JWS made without joserfc, straight from RFC 7515: any header, any payload bytes."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(payload)}"
    return f"{signing_input}.{b64(key.sign(signing_input.encode()))}"


def refused(code: str, call: Callable[..., object], *args: Any) -> EnvelopeRefused:
    with pytest.raises(EnvelopeRefused) as caught:
        call(*args)
    assert caught.value.code == code, caught.value
    return caught.value


# --- signing and verifying ------------------------------------------------------------------


def test_a_message_signs_and_verifies_with_its_canonical_bytes_and_their_hash() -> None:
    pl, ua = Node(), Node()
    body = message(ua)
    token = sign_message(body, pl.sign, pl.kid)
    verified = verify_message(token, directory(pl), MAX)
    assert verified.body == body and verified.kid == pl.kid
    assert verified.payload == canonical(body)
    assert verified.content_hash == hashlib.sha256(verified.payload).hexdigest()
    assert verified.content_hash == content_hash(body)
    # RFC 8785: sorted members, no whitespace, UTC instants as Z with their microseconds
    assert verified.payload.startswith(b'{"actor":{"role":"officer","state":"PL"')
    assert b'"sent_at":"2027-03-01T09:00:00.123456Z"' in verified.payload
    assert unverified_header(token) == (pl.kid, "readmit.message+jws")
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "kid": pl.kid, "typ": "readmit.message+jws"}


def test_a_tampered_payload_is_refused() -> None:
    pl, ua = Node(), Node()
    token = sign_message(message(ua), pl.sign, pl.kid)
    header, _, signature = token.split(".")
    other = b64(canonical(message(ua, seq=2)))  # a valid body, not the one signed
    refused(
        "bad_signature", lambda: verify_message(f"{header}.{other}.{signature}", directory(pl), MAX)
    )


def test_a_tampered_signature_is_refused() -> None:
    pl, ua = Node(), Node()
    token = sign_message(message(ua), pl.sign, pl.kid)
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 1
    tampered = f"{header}.{payload}.{b64(bytes(raw))}"
    refused("bad_signature", lambda: verify_message(tampered, directory(pl), MAX))
    refused("bad_signature", lambda: verify_message(f"{header}.{payload}.", directory(pl), MAX))


def test_a_header_naming_another_known_key_is_refused() -> None:
    """The header is signed too: swapping its kid for another peer's breaks the signature."""
    pl, ua, other = Node(), Node(), Node()
    token = sign_message(message(ua), pl.sign, pl.kid)
    _, payload, signature = token.split(".")
    swapped = {"alg": "EdDSA", "kid": other.kid, "typ": "readmit.message+jws"}
    forged = f"{b64(json.dumps(swapped).encode())}.{payload}.{signature}"
    assert unverified_header(forged)[0] == other.kid
    refused("bad_signature", lambda: verify_message(forged, directory(pl, other), MAX))


def test_a_message_signed_by_another_key_than_its_kid_names_is_refused() -> None:
    pl, ua, impostor = Node(), Node(), Node()
    token = sign_message(message(ua), impostor.sign, pl.kid)
    refused("bad_signature", lambda: verify_message(token, directory(pl), MAX))


def test_a_receipt_presented_as_a_message_is_refused_and_the_other_way_round() -> None:
    pl, ua = Node(), Node()
    receipt_token = sign_receipt(receipt(), ua.sign, ua.kid)
    refused("wrong_type", lambda: verify_message(receipt_token, directory(ua), MAX))
    message_token = sign_message(message(ua), pl.sign, pl.kid)
    refused("wrong_type", lambda: verify_receipt(message_token, directory(pl), MAX))
    # a receipt body under a message header, validly signed: the body's typ is checked too
    header = {"alg": "EdDSA", "kid": ua.kid, "typ": "readmit.message+jws"}
    mislabelled = hand_signed(header, canonical(receipt()), ua.sign)
    refused("wrong_type", lambda: verify_message(mislabelled, directory(ua), MAX))


def test_a_validly_signed_payload_that_is_not_canonical_is_refused() -> None:
    pl, ua = Node(), Node()
    body = message(ua)
    header = {"alg": "EdDSA", "kid": pl.kid, "typ": "readmit.message+jws"}
    spaced = json.dumps(body.model_dump(mode="json"), indent=1, sort_keys=True).encode()
    refused(
        "not_canonical",
        lambda: verify_message(hand_signed(header, spaced, pl.sign), directory(pl), MAX),
    )
    # the same instant written +00:00 instead of Z: the same body, another byte form
    offset = canonical(body).replace(b"09:00:00.123456Z", b"09:00:00.123456+00:00")
    assert offset != canonical(body)
    refused(
        "not_canonical",
        lambda: verify_message(hand_signed(header, offset, pl.sign), directory(pl), MAX),
    )
    # and the canonical bytes, signed by hand, verify: nothing here depends on joserfc's output
    good = hand_signed(header, canonical(body), pl.sign)
    assert verify_message(good, directory(pl), MAX).body == body


def test_an_oversized_token_is_refused_before_anything_is_read() -> None:
    def no_lookup(kid: str) -> Ed25519PublicKey:
        raise AssertionError("looked up a key for an oversized token")

    pl, ua = Node(), Node()
    token = sign_message(message(ua), pl.sign, pl.kid)
    refused("oversized", lambda: verify_message(token, no_lookup, len(token) - 1))
    assert verify_message(token, directory(pl), len(token)).kid == pl.kid
    garbage = "\x00{" * 600_000  # not even a JWS: its size alone refuses it
    refused("oversized", lambda: verify_message(garbage, no_lookup, MAX))
    refused("oversized", lambda: peek_sender(garbage, max_bytes=MAX))


def test_a_large_message_within_the_limit_verifies() -> None:
    """joserfc's own payload limit (128 kB) gives way to the node's."""
    pl, ua = Node(), Node()
    aad = message_aad(uuid4(), "PL-UA-2027-000123", "PL", "UA")
    big = encrypt_to(ua.crypt.public_key(), ua.enc_kid, b"x" * 400_000, aad)
    token = sign_message(message(ua, payload=big), pl.sign, pl.kid)
    assert verify_message(token, directory(pl), MAX).body.payload == big


def test_the_directory_refusal_of_a_kid_passes_through_unchanged() -> None:
    pl, ua, stranger = Node(), Node(), Node()
    token = sign_message(message(ua), stranger.sign, stranger.kid)
    with pytest.raises(UnknownKey) as caught:
        verify_message(token, directory(pl), MAX)
    assert caught.value.args == (stranger.kid,)
    receipt_token = sign_receipt(receipt(), stranger.sign, stranger.kid)
    with pytest.raises(UnknownKey):
        verify_receipt(receipt_token, directory(pl), MAX)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "kid": "k", "typ": "readmit.message+jws"},
        {"alg": "HS256", "kid": "k", "typ": "readmit.message+jws"},
        {"alg": "EdDSA", "typ": "readmit.message+jws"},
        {"alg": "EdDSA", "kid": "k", "typ": "readmit.message+jws", "b64": False, "crit": ["b64"]},
        {"alg": "EdDSA", "kid": "k", "typ": "readmit.message+jws", "jku": "https://evil"},
        {"alg": "EdDSA", "kid": "k/../x", "typ": "readmit.message+jws"},
        {"alg": "EdDSA", "kid": 7, "typ": "readmit.message+jws"},
    ],
)
def test_a_header_other_than_alg_kid_typ_is_refused_before_any_key_is_looked_up(
    header: dict[str, Any],
) -> None:
    def no_lookup(kid: str) -> Ed25519PublicKey:
        raise AssertionError("looked up a key for a malformed header")

    token = hand_signed(header, canonical(message(Node())), Node().sign)
    refused("malformed", lambda: verify_message(token, no_lookup, MAX))


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "ünïcode.x.y", "!!!.x.y", f"{b64(b'[1]')}.x.y", f"{b64(b'{}')}.x.y"],
)
def test_what_is_not_a_compact_jws_is_malformed(token: str) -> None:
    refused("malformed", lambda: verify_message(token, directory(Node()), MAX))


def test_a_validly_signed_invalid_body_is_malformed_without_quoting_it() -> None:
    pl, ua = Node(), Node()
    header = {"alg": "EdDSA", "kid": pl.kid, "typ": "readmit.message+jws"}
    data = message(ua).model_dump(mode="json")
    bad = {**data, "seq": 0, "actor": {**data["actor"], "user_id": "Oksana Kovalenko"}}
    token = hand_signed(header, json.dumps(bad).encode(), pl.sign)
    error = refused("malformed", lambda: verify_message(token, directory(pl), MAX))
    assert "seq" in error.detail and "Kovalenko" not in str(error)
    twice = b'{"typ":"readmit.message/1","typ":"readmit.message/1"}'
    refused(
        "malformed", lambda: verify_message(hand_signed(header, twice, pl.sign), directory(pl), MAX)
    )
    refused(
        "malformed", lambda: verify_message(hand_signed(header, b"[]", pl.sign), directory(pl), MAX)
    )


def test_the_content_hash_is_the_same_for_every_serialisation_of_a_body() -> None:
    pl, ua = Node(), Node()
    body = message(ua)
    verified = verify_message(sign_message(body, pl.sign, pl.kid), directory(pl), MAX)
    data = body.model_dump(mode="json")
    reordered = json.dumps(dict(reversed(list(data.items()))), indent=4)
    in_paris = {**data, "sent_at": SENT.astimezone(timezone(timedelta(hours=1))).isoformat()}
    for text in (reordered, json.dumps(data, ensure_ascii=True), json.dumps(in_paris)):
        assert content_hash(MessageBody.model_validate_json(text)) == verified.content_hash
    assert content_hash(message(ua, seq=2)) != verified.content_hash


def test_peek_sender_reads_the_routing_of_a_token_it_cannot_trust() -> None:
    pl, ua = Node(), Node()
    body = message(ua)
    token = sign_message(body, pl.sign, pl.kid)
    assert peek_sender(token) == ("PL", "UA", body.message_id)
    header, payload, signature = token.split(".")
    assert peek_sender(f"{header}.{payload}.{signature[::-1]}").message_id == body.message_id
    answer = receipt()
    assert peek_sender(sign_receipt(answer, ua.sign, ua.kid)) == ("UA", "PL", answer.message_id)
    no_states = b64(json.dumps({"sender": "pl", "message_id": str(uuid4())}).encode())
    refused("malformed", lambda: peek_sender(f"{header}.{no_states}.{signature}"))
    no_id = b64(json.dumps({"sender": "PL", "recipient": "UA", "message_id": 5}).encode())
    refused("malformed", lambda: peek_sender(f"{header}.{no_id}.{signature}"))


# --- the bodies' own rules ------------------------------------------------------------------


def test_a_message_goes_between_its_case_parties_and_a_command_from_the_sending_state() -> None:
    ua = Node()
    with pytest.raises(ValidationError, match="case's two states"):
        message(ua, recipient="DE")
    with pytest.raises(ValidationError, match="case's two states"):
        message(ua, recipient="PL")
    with pytest.raises(ValidationError, match="actor"):
        message(ua, actor=MessageActor(user_id="u", state="UA", role="officer"))
    system = MessageActor(user_id="readmit", state="*", role="system")
    assert message(ua, kind="consequence", command_name="expire_limit", actor=system).kind == (
        "consequence"
    )
    with pytest.raises(ValidationError, match="timezone"):
        message(ua, sent_at=datetime(2027, 3, 1, 9, 0))
    with pytest.raises(ValidationError):
        message(ua, seq=0)
    with pytest.raises(ValidationError):
        message(ua, head=ChainHead(version=1, hash="AB" * 32))


def test_a_receipt_gives_a_refusal_exactly_when_it_refuses() -> None:
    no = Refusal(code="out_of_order", detail="expected seq 3", retryable=True)
    assert receipt(outcome="refused", refusal=no, events=()).refusal == no
    with pytest.raises(ValidationError, match="refusal"):
        receipt(outcome="refused")
    with pytest.raises(ValidationError, match="refusal"):
        receipt(outcome="applied", refusal=no)
    with pytest.raises(ValidationError):
        Refusal(code="x", detail="d" * 501, retryable=False)


def test_a_receipt_signs_verifies_and_refuses_tampering() -> None:
    ua = Node()
    body = receipt(outcome="applied")
    token = sign_receipt(body, ua.sign, ua.kid)
    verified = verify_receipt(token, directory(ua), MAX)
    assert verified.body == body and verified.content_hash == content_hash(body)
    assert unverified_header(token) == (ua.kid, "readmit.receipt+jws")
    header, _, signature = token.split(".")
    other = b64(canonical(receipt(outcome="applied")))
    refused(
        "bad_signature", lambda: verify_receipt(f"{header}.{other}.{signature}", directory(ua), MAX)
    )
    refused("oversized", lambda: verify_receipt(token, directory(ua), 100))


# --- HPKE -----------------------------------------------------------------------------------


def aad_of(body: MessageBody) -> bytes:
    return message_aad(body.message_id, body.case_id, body.sender, body.recipient)


def test_a_command_crosses_encrypted_and_signed_and_opens_at_the_receiver() -> None:
    pl, ua = Node(), Node()
    command = open_case()
    message_id = uuid4()
    aad = message_aad(message_id, command.case_id, "PL", "UA")
    part = encrypt_to(ua.crypt.public_key(), ua.enc_kid, command.model_dump_json().encode(), aad)
    body = message(ua, message_id=message_id, payload=part, command_name="open_case")
    assert b"Shevchenko" not in canonical(body)
    verified = verify_message(sign_message(body, pl.sign, pl.kid), directory(pl), MAX)
    clear = decrypt_with(ua.crypt, ua.enc_kid, verified.body.payload, aad_of(verified.body))
    assert COMMAND_ADAPTER.validate_json(clear) == command


def test_hpke_parts_open_only_with_their_key_their_kid_and_their_aad() -> None:
    ua, pl = Node(), Node()
    aad = message_aad(UUID(int=1), "PL-UA-2027-000123", "PL", "UA")
    part = encrypt_to(ua.crypt.public_key(), ua.enc_kid, b"personal data", aad)
    assert isinstance(part, EncryptedPart) and part.kid == ua.enc_kid
    assert decrypt_with(ua.crypt, ua.enc_kid, part, aad) == b"personal data"
    # fresh encapsulation each time: equal plaintexts are not linkable
    assert encrypt_to(ua.crypt.public_key(), ua.enc_kid, b"personal data", aad) != part
    refused("undecryptable", lambda: decrypt_with(pl.crypt, ua.enc_kid, part, aad))  # wrong key
    refused("undecryptable", lambda: decrypt_with(ua.crypt, pl.enc_kid, part, aad))  # wrong kid
    for other in (
        message_aad(UUID(int=2), "PL-UA-2027-000123", "PL", "UA"),  # another message
        message_aad(UUID(int=1), "PL-UA-2027-000124", "PL", "UA"),  # another case
        message_aad(UUID(int=1), "PL-UA-2027-000123", "PL", "DE"),  # addressed elsewhere
    ):
        refused("undecryptable", decrypt_with, ua.crypt, ua.enc_kid, part, other)


def test_tampered_hpke_parts_do_not_open() -> None:
    ua = Node()
    aad = message_aad(UUID(int=1), "PL-UA-2027-000123", "PL", "UA")
    part = encrypt_to(ua.crypt.public_key(), ua.enc_kid, b"personal data", aad)
    ct = bytearray(base64.urlsafe_b64decode(part.ct + "=="))
    ct[0] ^= 1
    enc = bytearray(base64.urlsafe_b64decode(part.enc + "=="))
    enc[5] ^= 1
    for tampered in (
        part.model_copy(update={"ct": b64(bytes(ct))}),
        part.model_copy(update={"ct": part.ct[:-4]}),  # truncated tag
        part.model_copy(update={"enc": b64(bytes(enc))}),
        part.model_copy(update={"enc": b64(bytes(16))}),  # not an X25519 point
        part.model_copy(update={"enc": "A"}),  # not base64url of anything
    ):
        refused("undecryptable", decrypt_with, ua.crypt, ua.enc_kid, tampered, aad)


def test_the_aad_is_the_canonical_json_of_the_four_members() -> None:
    aad = message_aad(UUID(int=1), "PL-UA-2027-000123", "PL", "UA")
    assert aad == (
        b'{"case_id":"PL-UA-2027-000123",'
        b'"message_id":"00000000-0000-0000-0000-000000000001","recipient":"UA","sender":"PL"}'
    )


def test_a_kid_no_peer_could_read_back_is_not_signed_with() -> None:
    pl, ua = Node(), Node()
    with pytest.raises(ValueError, match="kid"):
        sign_message(message(ua), pl.sign, "a kid/with a slash")


def _labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or bytes(32), b"HPKE-v1" + suite + label + ikm, "sha256").digest()


def _labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    labeled = length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info
    return HKDFExpand(SHA256(), length, labeled).derive(prk)


def test_a_part_opens_with_rfc_9180_written_out_for_the_designs_suite() -> None:
    """Base mode, DHKEM(X25519, HKDF-SHA256) 0x0020, HKDF-SHA256 0x0001, AES-256-GCM 0x0002,
    info `readmit.federation/1`, straight from RFC 9180 sections 4.1, 5.1 and 5.2: what a peer
    written in another language must do to open a part."""
    ua = Node()
    aad = message_aad(UUID(int=1), "PL-UA-2027-000123", "PL", "UA")
    part = encrypt_to(ua.crypt.public_key(), ua.enc_kid, b"personal data", aad)
    enc = base64.urlsafe_b64decode(part.enc + "=" * (-len(part.enc) % 4))
    ct = base64.urlsafe_b64decode(part.ct + "=" * (-len(part.ct) % 4))
    kem = b"KEM" + (0x0020).to_bytes(2, "big")
    dh = ua.crypt.exchange(X25519PublicKey.from_public_bytes(enc))
    kem_context = enc + ua.crypt.public_key().public_bytes_raw()
    eae_prk = _labeled_extract(kem, b"", b"eae_prk", dh)
    shared = _labeled_expand(kem, eae_prk, b"shared_secret", kem_context, 32)
    hpke = b"HPKE" + b"".join(n.to_bytes(2, "big") for n in (0x0020, 0x0001, 0x0002))
    context = (
        b"\x00"
        + _labeled_extract(hpke, b"", b"psk_id_hash", b"")
        + _labeled_extract(hpke, b"", b"info_hash", b"readmit.federation/1")
    )
    secret = _labeled_extract(hpke, shared, b"secret", b"")
    key = _labeled_expand(hpke, secret, b"key", context, 32)
    nonce = _labeled_expand(hpke, secret, b"base_nonce", context, 12)
    assert AESGCM(key).decrypt(nonce, ct, aad) == b"personal data"
