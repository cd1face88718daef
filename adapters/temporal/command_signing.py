"""Commands signed by the API and checked by the workers: who acts on a case is the API's word.

Temporal's frontend accepts an update from anyone who reaches it, and a case workflow records
the actor its update names. So the API signs every command request it sends (the case gateway,
`adapters/temporal/cases.py`) with an Ed25519 key, over the case id, the update id, the command
with all its content, the actor (user, state, role), the key id and the instant of signing;
the case queue's workers check the signature before the workflow's validator runs
(`adapters/temporal/command_check.py`) and refuse an update that is unsigned, signed with a key
they do not know, signed for another case, update or content, or signed too long ago.

A key is named by its fingerprint (`key_id_of`), so rotation needs no ids kept in step: the
workers accept every public key they are given, the API signs with one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapters import encoding
from adapters.encoding import KeyEncodingError, key_id_of
from workflows.contracts import CommandRequest, CommandSignature

PURPOSE = "readmit/command-request/v1"  # what the signed bytes are, so they mean nothing else
MAX_AGE = timedelta(minutes=15)


class CommandKeyError(ValueError):
    """Key material that is not a base64 32-byte Ed25519 seed or public key."""


class CommandSignatureError(Exception):
    """A command request the workers refuse; the message is fixed text, never the request's."""


def signing_key_from(seed_b64: str) -> Ed25519PrivateKey:
    """The private key of a base64 32-byte seed (`READMIT_COMMAND_SIGNING_KEY`)."""
    try:
        return encoding.signing_key_from(seed_b64)
    except KeyEncodingError as error:
        raise CommandKeyError(
            f"the command signing key is not a base64 32-byte seed ({error})"
        ) from None


def public_key_from(text: str) -> Ed25519PublicKey:
    """A base64 32-byte Ed25519 public key (`READMIT_COMMAND_VERIFY_KEYS`)."""
    try:
        return encoding.public_key_from(text)
    except KeyEncodingError as error:
        raise CommandKeyError(
            f"a command verify key is not a base64 32-byte public key ({error})"
        ) from None


def signed_content(
    case_id: str, update_id: str, request: CommandRequest, key_id: str, issued_at: datetime
) -> bytes:
    """The bytes signed: canonical JSON (sorted keys, no spaces) of everything the request
    says, with the case and the update it is meant for. Both sides compute it from the
    request's model, so it is the same whatever bytes the payload carried."""
    document = {
        "purpose": PURPOSE,
        "case_id": case_id,
        "update_id": update_id,
        "command": request.command.model_dump(mode="json"),
        "actor": request.actor.model_dump(mode="json"),
        "correlation_id": request.correlation_id,
        "key_id": key_id,
        "issued_at": issued_at.astimezone(UTC).isoformat(),
    }
    if request.peer is not None:  # a message of the other node: how it is taken is signed too
        document["peer"] = request.peer.model_dump(mode="json")
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class CommandSigner:
    """The API's side: signs each command request before it leaves for a case workflow."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.key_id = key_id_of(key.public_key())

    @classmethod
    def from_seed(cls, seed_b64: str) -> CommandSigner:
        return cls(signing_key_from(seed_b64))

    @classmethod
    def throwaway(cls) -> CommandSigner:
        """A fresh key for cases that die with their process (the simulator, benches)."""
        return cls(Ed25519PrivateKey.generate())

    def verifier(self, max_age: timedelta = MAX_AGE) -> CommandVerifier:
        """A verifier accepting this key's signatures only."""
        return CommandVerifier([self.public_key], max_age)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def sign(
        self, case_id: str, update_id: str, request: CommandRequest, at: datetime | None = None
    ) -> CommandRequest:
        """`request` with this key's signature for `case_id` and `update_id`, issued `at`
        (default: now)."""
        issued_at = (at or datetime.now(UTC)).astimezone(UTC)
        unsigned = request.model_copy(update={"signature": None})
        content = signed_content(case_id, update_id, unsigned, self.key_id, issued_at)
        signature = CommandSignature(
            key_id=self.key_id,
            issued_at=issued_at,
            value=encoding.encode(self._key.sign(content)),
        )
        return unsigned.model_copy(update={"signature": signature})


def _load_invalid_signature() -> None:
    """Have cryptography's Rust core import its `InvalidSignature` class now. It does so the
    first time a signature fails, and a first time inside Temporal's workflow sandbox (where
    the worker checks signatures, and whose import machinery the Rust core cannot use) aborts
    the whole process."""
    with contextlib.suppress(InvalidSignature):
        Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key().verify(bytes(64), b"")


class CommandVerifier:
    """The workers' side: the public keys whose signatures they accept, by key id."""

    def __init__(self, keys: Iterable[Ed25519PublicKey], max_age: timedelta = MAX_AGE) -> None:
        self.keys = {key_id_of(key): key for key in keys}
        if not self.keys:
            raise CommandKeyError("no key to verify command signatures with")
        self.max_age = max_age
        _load_invalid_signature()

    @classmethod
    def from_public_keys(
        cls, texts: Iterable[str], max_age: timedelta = MAX_AGE
    ) -> CommandVerifier:
        return cls((public_key_from(text) for text in texts), max_age)

    def check(self, case_id: str, update_id: str, request: CommandRequest, now: datetime) -> None:
        """Raise `CommandSignatureError` unless `request` carries a signature, by a known key,
        over this case, this update and this very request, issued within `max_age` of `now`
        (either way: the API's and the worker's clocks may differ a little)."""
        signature = request.signature
        if signature is None:
            raise CommandSignatureError("the command is not signed by the API")
        key = self.keys.get(signature.key_id)
        if key is None:
            raise CommandSignatureError("the command is signed with a key the workers do not know")
        try:
            value = encoding.decode(signature.value)
        except KeyEncodingError:
            raise CommandSignatureError("the command's signature is not base64") from None
        unsigned = request.model_copy(update={"signature": None})
        content = signed_content(
            case_id, update_id, unsigned, signature.key_id, signature.issued_at
        )
        try:
            key.verify(value, content)
        except InvalidSignature:
            raise CommandSignatureError(
                "the command's signature does not match this case, update and command"
            ) from None
        if abs(now - signature.issued_at) > self.max_age:
            raise CommandSignatureError("the command's signature has expired")
