"""What one node sends another (a message) and answers (a receipt): bodies, bytes, signatures.

A `MessageBody` carries one officer's command across (or a consequence the waiting node
applied), the command itself HPKE-encrypted to the recipient (`adapters.federation.hpke`); a
`ReceiptBody` answers it with the legal instant of receipt, the outcome and the receiver's chain
head. A body is signed as the RFC 8785 canonical JSON of its JSON-mode dump, in a JWS compact
serialization (EdDSA over Ed25519, protected header exactly `{alg, kid, typ}`), so the bytes one
node signs are the bytes the other hashes and keeps: `content_hash` is the hex SHA-256 of exactly
those payload bytes. A body has one signed form: a verifier accepts only the canonical form of
the body it parses (anything else, even the same body re-serialised, is `not_canonical`), so one
body has one content hash on both sides and in every audit.

Every refusal is an `EnvelopeRefused` whose `code` a receiver puts in its signed error receipt
(`oversized`, `malformed`, `bad_signature`, `wrong_type`, `not_canonical`; `undecryptable` from
the HPKE module). Its detail never quotes the token or the body: a peer that erred may have put
personal data where it does not belong. The peer directory's own refusals (unknown, rotated-out
or revoked key) come out of `key_for` and pass through unchanged.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, NamedTuple, TypeVar
from uuid import UUID

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import OKPKey
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from domain.commands import CASE_ID_PATTERN

MESSAGE_TYP: Literal["readmit.message/1"] = "readmit.message/1"
RECEIPT_TYP: Literal["readmit.receipt/1"] = "readmit.receipt/1"
HEADS_REQUEST_TYP: Literal["readmit.heads-request/1"] = "readmit.heads-request/1"
HEADS_TYP: Literal["readmit.heads/1"] = "readmit.heads/1"
HEADS_REQUEST_JWS_TYP = "readmit.heads-request+jws"
HEADS_JWS_TYP = "readmit.heads+jws"
MESSAGE_JWS_TYP = "readmit.message+jws"
RECEIPT_JWS_TYP = "readmit.receipt+jws"
# RFC 8037's name for Ed25519 signatures in JOSE (RFC 9864 later named it "Ed25519" as well).
ALG = "EdDSA"
# Integers stay exact in every JSON reader (RFC 8785 refuses larger ones).
MAX_SAFE_INTEGER = 2**53 - 1
# A protected header {alg, kid, typ} is about 150 characters: room to spare, never a payload.
MAX_HEADER_CHARS = 1024
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_KID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

State = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Hex64 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Kid = Annotated[str, Field(pattern=_KID.pattern)]
B64Url = Annotated[str, Field(pattern=_B64URL.pattern)]
Count = Annotated[int, Field(ge=0, le=MAX_SAFE_INTEGER)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


# An instant, kept in UTC so that one instant has one written form (`...Z`) and one hash.
Instant = Annotated[AwareDatetime, AfterValidator(_utc)]


class EnvelopeRefused(Exception):
    """A token or encrypted part refused: `code` is stable (receipts carry it), `detail` says
    why without quoting what was received."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def b64url_encode(raw: bytes) -> str:
    """Base64url without padding (RFC 7515's encoding, that of every binary field here)."""
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    """The bytes of unpadded base64url `text`; `ValueError` on any other character or length."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError("not base64url") from None


class _Wire(BaseModel):
    """A wire model: frozen, no unknown members, defaults (the `typ`) required in its schema."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_serialization_defaults_required=True
    )


class ChainHead(_Wire):
    """A node's hash-chain head for one case: its last event's version and hash."""

    version: Count
    hash: Hex64


class EncryptedPart(_Wire):
    """HPKE (RFC 9180, base mode) ciphertext to the key `kid`: `enc` the encapsulated key,
    `ct` the ciphertext, both base64url without padding."""

    kid: Kid
    enc: B64Url
    ct: B64Url


class MessageActor(_Wire):
    """Who acted on the sending node: an officer of that state, or its system (a consequence)."""

    user_id: str = Field(min_length=1, max_length=200)
    state: str = Field(pattern=r"^([A-Z]{2}|\*)$")
    role: str = Field(pattern=r"^(officer|supervisor|auditor|admin|system)$")


class MessageBody(_Wire):
    """A command one node sends the other for one case, signed as `readmit.message+jws`."""

    typ: Literal["readmit.message/1"] = MESSAGE_TYP
    message_id: UUID
    case_id: str = Field(pattern=CASE_ID_PATTERN)
    sender: State
    recipient: State
    seq: Annotated[int, Field(ge=1, le=MAX_SAFE_INTEGER)]
    peer_seen: Count
    sent_at: Instant
    kind: Literal["command", "consequence"]
    command_name: Name
    actor: MessageActor
    payload: EncryptedPart
    head: ChainHead | None

    @model_validator(mode="after")
    def _between_the_case_parties(self) -> MessageBody:
        parties = {self.case_id[:2], self.case_id[3:5]}
        if self.sender == self.recipient or {self.sender, self.recipient} != parties:
            raise ValueError("sender and recipient must be the case's two states")
        if self.kind == "command" and self.actor.state != self.sender:
            raise ValueError("a command's actor must be of the sending state")
        return self


class Refusal(_Wire):
    """Why a message was not applied; `detail` is for operators and holds no personal data."""

    code: Name
    detail: str = Field(max_length=500)
    retryable: bool


class ReceiptEvent(_Wire):
    """One event the receiver recorded for the message: the sender records the same ids."""

    event_id: UUID
    version: Annotated[int, Field(ge=1, le=MAX_SAFE_INTEGER)]
    type: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z][A-Za-z0-9]*$")
    at: Instant


class ReceiptBody(_Wire):
    """The receiving node's answer to a message, signed as `readmit.receipt+jws`: its
    `received_at` is the legal instant of receipt."""

    typ: Literal["readmit.receipt/1"] = RECEIPT_TYP
    message_id: UUID
    content_hash: Hex64
    sender: State
    recipient: State
    received_at: Instant
    outcome: Literal["applied", "refused"]
    refusal: Refusal | None
    head: ChainHead | None
    echoed_head: ChainHead | None
    events: tuple[ReceiptEvent, ...] = Field(max_length=1000)

    @model_validator(mode="after")
    def _consistent(self) -> ReceiptBody:
        if self.sender == self.recipient:
            raise ValueError("sender and recipient must differ")
        if (self.outcome == "refused") != (self.refusal is not None):
            raise ValueError("a refusal is given exactly when the outcome is refused")
        return self


class HeadsRequest(_Wire):
    """A node asking its peer for the peer's chain of some shared cases (`readmit audit verify
    --peer --fetch`), signed as `readmit.heads-request+jws`."""

    typ: Literal["readmit.heads-request/1"] = HEADS_REQUEST_TYP
    request_id: UUID
    sender: State
    recipient: State
    at: Instant
    case_ids: tuple[Annotated[str, Field(pattern=CASE_ID_PATTERN)], ...] = Field(
        min_length=1, max_length=100
    )


class CaseHeads(_Wire):
    """One case's chain as the answering node holds it now: every version's hash."""

    case_id: str = Field(pattern=CASE_ID_PATTERN)
    heads: tuple[ChainHead, ...] = Field(max_length=100_000)


class HeadsAnswer(_Wire):
    """The answer, signed as `readmit.heads+jws`: it binds the answering node to its chain as
    it stands, to compare with the heads it signed earlier in messages and receipts."""

    typ: Literal["readmit.heads/1"] = HEADS_TYP
    request_id: UUID
    sender: State
    recipient: State
    at: Instant
    cases: tuple[CaseHeads, ...] = Field(max_length=100)


Body = TypeVar("Body", MessageBody, ReceiptBody, HeadsRequest, HeadsAnswer)


@dataclass(frozen=True)
class Verified(Generic[Body]):
    """A verified token: its body, the key that signed it, and the payload bytes and their
    hash (what both nodes store and an auditor recomputes)."""

    body: Body
    kid: str
    content_hash: str
    payload: bytes


class Routing(NamedTuple):
    """Where an unverified token says it comes from and goes: enough to address a refusal."""

    sender: str
    recipient: str
    message_id: UUID


def canonical(body: MessageBody | ReceiptBody | HeadsRequest | HeadsAnswer) -> bytes:
    """The RFC 8785 canonical JSON of `body`'s JSON-mode dump: the bytes that are signed."""
    return rfc8785.dumps(body.model_dump(mode="json"))


def content_hash(body: MessageBody | ReceiptBody) -> str:
    """Hex SHA-256 of the canonical bytes: a body's name on both nodes and in receipts."""
    return hashlib.sha256(canonical(body)).hexdigest()


# --- signing --------------------------------------------------------------------------------


def _quiet_eddsa() -> JWSAlgModel:
    """joserfc's EdDSA without its deprecation warning on every call: the design fixes `EdDSA`
    for both nodes, with Ed25519 keys only (what RFC 9864's `Ed25519` names)."""
    algorithm = copy.copy(jws.JWSRegistry.algorithms[ALG])
    algorithm.security_warning = None
    return algorithm


class _Registry(jws.JWSRegistry):
    """Only EdDSA, with the payload limit the caller gives (joserfc's default is 128 kB)."""

    algorithms = {ALG: _quiet_eddsa()}  # noqa: RUF012 (joserfc's own class attributes)
    recommended = [ALG]  # noqa: RUF012

    def __init__(self, max_bytes: int) -> None:
        super().__init__(algorithms=[ALG])
        self.max_payload_length = max_bytes


def _sign(
    body: MessageBody | ReceiptBody | HeadsRequest | HeadsAnswer,
    key: Ed25519PrivateKey,
    kid: str,
    typ: str,
) -> str:
    if not _KID.fullmatch(kid):
        raise ValueError("a kid is 1 to 128 base64url characters")
    header = {"alg": ALG, "kid": kid, "typ": typ}
    payload = canonical(body)
    return jws.serialize_compact(
        header, payload, OKPKey.import_key(key), registry=_Registry(len(payload))
    )


def sign_message(body: MessageBody, key: Ed25519PrivateKey, kid: str) -> str:
    """`body` signed with the node's Ed25519 `key` (named `kid`): a JWS compact token."""
    return _sign(body, key, kid, MESSAGE_JWS_TYP)


def sign_receipt(body: ReceiptBody, key: Ed25519PrivateKey, kid: str) -> str:
    """`body` signed with the node's Ed25519 `key` (named `kid`): a JWS compact token."""
    return _sign(body, key, kid, RECEIPT_JWS_TYP)


def sign_heads_request(body: HeadsRequest, key: Ed25519PrivateKey, kid: str) -> str:
    return _sign(body, key, kid, HEADS_REQUEST_JWS_TYP)


def sign_heads(body: HeadsAnswer, key: Ed25519PrivateKey, kid: str) -> str:
    return _sign(body, key, kid, HEADS_JWS_TYP)


# --- reading and verifying ------------------------------------------------------------------


def _malformed(detail: str) -> EnvelopeRefused:
    return EnvelopeRefused("malformed", detail)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("a member is given twice")
    return members


def _json_segment(segment: str, what: str) -> Any:
    try:
        return json.loads(b64url_decode(segment), object_pairs_hook=_no_duplicates)
    except ValueError:  # base64, UTF-8, JSON and duplicate members alike
        raise _malformed(f"the {what} is not base64url JSON") from None


def _segments(token: str) -> list[str]:
    if not isinstance(token, str) or not token.isascii():
        raise _malformed("not a JWS compact serialization")
    segments = token.split(".")
    if len(segments) != 3:
        raise _malformed("not a JWS compact serialization")
    return segments


def _header(segment: str) -> tuple[str, str]:
    if len(segment) > MAX_HEADER_CHARS:
        raise _malformed("the protected header is too long")
    header = _json_segment(segment, "protected header")
    if not isinstance(header, dict) or set(header) != {"alg", "kid", "typ"}:
        raise _malformed("the protected header must hold exactly alg, kid and typ")
    alg, kid, typ = header["alg"], header["kid"], header["typ"]
    if alg != ALG:
        raise _malformed(f"the algorithm must be {ALG}")
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise _malformed("the kid is not a key id")
    if not isinstance(typ, str):
        raise _malformed("the typ is not a string")
    return kid, typ


def unverified_header(token: str) -> tuple[str, str]:
    """(kid, typ) of `token`'s protected header, unverified: which key to look up. Raises
    `EnvelopeRefused` (`malformed`)."""
    return _header(_segments(token)[0])


def peek_sender(token: str, *, max_bytes: int | None = None) -> Routing:
    """Sender, recipient and message id from `token`'s payload, *unverified*: to route it and to
    address an error receipt for a token that failed verification, never to trust it. Raises
    `EnvelopeRefused` (`oversized` past `max_bytes` when given, `malformed`)."""
    if max_bytes is not None and len(token) > max_bytes:
        raise EnvelopeRefused("oversized", f"the token is over {max_bytes} bytes")
    data = _json_segment(_segments(token)[1], "payload")
    if not isinstance(data, dict):
        raise _malformed("the payload is not a JSON object")
    sender, recipient = data.get("sender"), data.get("recipient")
    if not (_is_state(sender) and _is_state(recipient)):
        raise _malformed("the payload names no sender and recipient states")
    try:
        message_id = UUID(str(data.get("message_id")))
    except ValueError:
        raise _malformed("the payload names no message id") from None
    return Routing(str(sender), str(recipient), message_id)


def _is_state(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[A-Z]{2}", value) is not None


def _problems(error: ValidationError) -> str:
    """Where and what, never the input: `seq: greater_than_equal; sent_at: timezone_aware`."""
    parts = [".".join(str(p) for p in e["loc"]) + f": {e['type']}" for e in error.errors()]
    return ("the body is invalid: " + "; ".join(parts))[:500]


def _verify(
    token: str,
    key_for: Callable[[str], Ed25519PublicKey],
    max_bytes: int,
    jws_typ: str,
    model: type[Body],
) -> Verified[Body]:
    if len(token) > max_bytes:
        raise EnvelopeRefused("oversized", f"the token is over {max_bytes} bytes")
    kid, typ = _header(_segments(token)[0])
    if typ != jws_typ:
        raise EnvelopeRefused("wrong_type", f"expected a {jws_typ} token")
    public = key_for(kid)  # the directory's refusals pass through as they are
    if not isinstance(public, Ed25519PublicKey):
        raise TypeError("key_for must return an Ed25519PublicKey")
    try:
        signed = jws.deserialize_compact(
            token, OKPKey.import_key(public), registry=_Registry(max_bytes)
        )
    except BadSignatureError:
        raise EnvelopeRefused(
            "bad_signature", f"the signature does not verify with {kid}"
        ) from None
    except (JoseError, ValueError):
        raise _malformed("not a JWS compact serialization") from None
    payload = signed.payload
    try:
        data = json.loads(payload, object_pairs_hook=_no_duplicates)
    except ValueError:
        raise _malformed("the payload is not JSON") from None
    if not isinstance(data, dict):
        raise _malformed("the payload is not a JSON object")
    expected = model.model_fields["typ"].default
    if data.get("typ") != expected:
        raise EnvelopeRefused("wrong_type", f"expected a {expected} body")
    try:
        body = model.model_validate(data)
        again = canonical(body)
    except ValidationError as error:
        raise _malformed(_problems(error)) from None
    except ValueError:  # not canonicalisable (a lone surrogate)
        raise _malformed("the body has no canonical form") from None
    if again != payload:
        raise EnvelopeRefused("not_canonical", "the payload is not the body's RFC 8785 form")
    return Verified(body, kid, hashlib.sha256(payload).hexdigest(), payload)


def only_key(key: Ed25519PublicKey) -> Callable[[str], Ed25519PublicKey]:
    """The key lookup of a token whose key was looked up already (asynchronously)."""
    return lambda _kid: key


def verify_message(
    token: str, key_for: Callable[[str], Ed25519PublicKey], max_bytes: int
) -> Verified[MessageBody]:
    """The message in `token`, verified with the sender's key `key_for(kid)`. Raises
    `EnvelopeRefused`, or whatever `key_for` raises for a key it does not accept."""
    return _verify(token, key_for, max_bytes, MESSAGE_JWS_TYP, MessageBody)


def verify_receipt(
    token: str, key_for: Callable[[str], Ed25519PublicKey], max_bytes: int
) -> Verified[ReceiptBody]:
    """The receipt in `token`, verified with the receiver's key `key_for(kid)`. Raises
    `EnvelopeRefused`, or whatever `key_for` raises for a key it does not accept."""
    return _verify(token, key_for, max_bytes, RECEIPT_JWS_TYP, ReceiptBody)


def verify_heads_request(
    token: str, key_for: Callable[[str], Ed25519PublicKey], max_bytes: int
) -> Verified[HeadsRequest]:
    return _verify(token, key_for, max_bytes, HEADS_REQUEST_JWS_TYP, HeadsRequest)


def verify_heads(
    token: str, key_for: Callable[[str], Ed25519PublicKey], max_bytes: int
) -> Verified[HeadsAnswer]:
    return _verify(token, key_for, max_bytes, HEADS_JWS_TYP, HeadsAnswer)
