"""The personal data a message carries, encrypted to the receiving node (HPKE, RFC 9180).

Base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM (`pyhpke`), with the info
`readmit.federation/1`. Only the node holding the X25519 key the sender looked up in its peer
directory opens the part, and the associated data (`message_aad`: the message id, case id,
sender and recipient) binds it to its message: a part copied into another message, another
case, or addressed elsewhere does not open. The JWS signature over the whole body (the part
included) says who sent it; HPKE's base mode only says to whom.
"""

from __future__ import annotations

from uuid import UUID

import rfc8785
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pyhpke import AEADId, CipherSuite, KDFId, KEMId
from pyhpke.exceptions import PyHPKEError

from adapters.federation.envelope import (
    EncryptedPart,
    EnvelopeRefused,
    b64url_decode,
    b64url_encode,
)

INFO = b"readmit.federation/1"
SUITE = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)


def message_aad(message_id: UUID, case_id: str, sender: str, recipient: str) -> bytes:
    """The associated data of a message's encrypted part: RFC 8785 canonical JSON of the four
    members that place it, so both nodes compute the same bytes from the body."""
    return rfc8785.dumps(
        {
            "message_id": str(message_id),
            "case_id": case_id,
            "sender": sender,
            "recipient": recipient,
        }
    )


def encrypt_to(public: X25519PublicKey, kid: str, plaintext: bytes, aad: bytes) -> EncryptedPart:
    """`plaintext` sealed to the recipient's X25519 key `public` (named `kid`), bound to `aad`."""
    recipient = SUITE.kem.deserialize_public_key(public.public_bytes_raw())
    enc, context = SUITE.create_sender_context(recipient, info=INFO)
    ciphertext = context.seal(plaintext, aad=aad)
    return EncryptedPart(kid=kid, enc=b64url_encode(enc), ct=b64url_encode(ciphertext))


def decrypt_with(private: X25519PrivateKey, kid: str, part: EncryptedPart, aad: bytes) -> bytes:
    """The plaintext of `part` with this node's X25519 key `private` (named `kid`). Raises
    `EnvelopeRefused("undecryptable")` for a part to another key, altered, or bound to other
    associated data: which of them is not told (nothing to learn from the answer)."""
    if part.kid != kid:
        raise EnvelopeRefused("undecryptable", "the payload is encrypted to another key")
    try:
        key = SUITE.kem.deserialize_private_key(private.private_bytes_raw())
        context = SUITE.create_recipient_context(b64url_decode(part.enc), key, info=INFO)
        return context.open(b64url_decode(part.ct), aad=aad)
    except (PyHPKEError, ValueError):  # a bad tag, or an encapsulated key that is no point
        raise EnvelopeRefused("undecryptable", "the payload does not open") from None
