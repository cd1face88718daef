"""Attachments between federated nodes: a file added to a shared case after its submission
travels in the message carrying its `AddAttachment`, and each node keeps it sealed with its own
case key (docs/federation.md, "Files").

The sending node takes the bytes out of its seal for the message, whose payload is
HPKE-encrypted to the peer like all personal data; the receiving node checks them against the
command (SHA-256, size, sniffed type) and seals them with its own case key before the case
records the command. A message has at most `READMIT_FEDERATION_MAX_MESSAGE_BYTES`: a file of a
shared case must fit in it (`max_crossing_bytes`), which the API checks before the upload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from adapters.attachments.sniff import sniff
from adapters.attachments.store import AttachmentStore, BlobKey, seal_purpose
from adapters.protection.sealing import CaseSealer
from domain.commands import AddAttachment

# The message's JSON carries the file in base64; the payload is encrypted and encoded again,
# the JWS once more: about 2.4 times the file, plus the command and the envelope.
ENVELOPE_BYTES = 16 * 1024


class AttachmentRefused(Exception):
    """The bytes a peer sent do not match the command they came with."""


def max_crossing_bytes(max_message_bytes: int) -> int:
    """The largest file whose message stays within `max_message_bytes`."""
    return max(0, (max_message_bytes - ENVELOPE_BYTES) * 5 // 12)


async def for_peer(store: AttachmentStore, sealer: CaseSealer, command: AddAttachment) -> str:
    """The file `command` names, out of this node's seal, as base64 for the peer's message;
    `LookupError` if this node does not hold it."""
    sealed = await store.get(BlobKey(sealer.case_id, command.sha256))
    if sealed is None:
        raise LookupError(f"attachment {command.attachment_id} is not stored on this node")
    data = sealer.open_bytes(seal_purpose(command.sha256), sealed)
    return base64.b64encode(data).decode("ascii")


async def keep_from_peer(
    store: AttachmentStore, sealer: CaseSealer, command: AddAttachment, encoded: object
) -> bool:
    """Seal the peer's file with this node's case key and store it; True if stored now.
    `AttachmentRefused` unless the bytes are the ones `command` names."""
    if not isinstance(encoded, str):
        raise AttachmentRefused("the message carries no file")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise AttachmentRefused("the file is not base64") from None
    if len(data) != command.size or hashlib.sha256(data).hexdigest() != command.sha256:
        raise AttachmentRefused("the file's size or SHA-256 differs from the command's")
    if sniff(data) != command.media_type:
        raise AttachmentRefused("the file is not of the command's type")
    key = BlobKey(sealer.case_id, command.sha256)
    return await store.put(key, sealer.seal_bytes(seal_purpose(command.sha256), data))
