"""Base64 key material and the Ed25519 helpers: the one decoder every key and blob goes through.

Keys reach Readmit as text from many hands: `readmit keys init` prints URL-safe base64 without
padding, operators paste standard base64 with padding, Protobuf JSON uses either. `decode`
accepts both alphabets, padded or not, and nothing else (no stray characters silently
dropped); `size` asks for an exact length. The production check (`adapters.production`), the
payload and master keyrings, the command signer and verifier, the audit signer and the codec
endpoint all decode here, so what one accepts the others load.

A public key has two names: its `fingerprint` (the first 16 hex digits of SHA-256 of its raw
bytes, as audit checkpoints record it) and its `key_id` (`ed25519-` and the fingerprint, as
command signatures carry it). Both are stored in signed documents, so neither changes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_BYTES = 32  # AES-256 keys, Ed25519 seeds and public keys


class KeyEncodingError(ValueError):
    """Text that is not base64 (of the size asked for); the message never quotes the text."""


def decode(text: str, size: int | None = None) -> bytes:
    """The bytes of base64 `text`: standard or URL-safe alphabet, padding optional, blanks
    around it ignored; exactly `size` bytes when given. Raises `KeyEncodingError`."""
    cleaned = text.strip().replace("-", "+").replace("_", "/").rstrip("=")
    try:
        raw = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KeyEncodingError("not base64") from None
    if size is not None and len(raw) != size:
        raise KeyEncodingError(f"{len(raw)} bytes, not {size}")
    return raw


def encode(raw: bytes) -> str:
    """Standard base64 with padding (what `decode` reads back, as do other tools)."""
    return base64.b64encode(raw).decode()


def signing_key_from(seed: str) -> Ed25519PrivateKey:
    """The Ed25519 private key of a base64 32-byte seed. Raises `KeyEncodingError`."""
    return Ed25519PrivateKey.from_private_bytes(decode(seed, KEY_BYTES))


def public_key_from(text: str) -> Ed25519PublicKey:
    """A base64 32-byte Ed25519 public key. Raises `KeyEncodingError`."""
    raw = decode(text, KEY_BYTES)
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise KeyEncodingError("not an Ed25519 public key") from None


def _public(key: Ed25519PublicKey | Ed25519PrivateKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def public_key_text(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The public key (of a private key, or itself) as standard base64."""
    return encode(_public(key).public_bytes_raw())


def fingerprint(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The first 16 hex digits of SHA-256 of the raw public key (audit checkpoints' key id)."""
    return hashlib.sha256(_public(key).public_bytes_raw()).hexdigest()[:16]


def key_id_of(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """`ed25519-` and the fingerprint: the key id command signatures carry."""
    return f"ed25519-{fingerprint(key)}"
