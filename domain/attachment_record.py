"""What a case records of an attachment (a scan, photo or document added to the case): never
its bytes, which a store keeps sealed with the case's data key, but their SHA-256, so the case's
hash chain covers exactly what was uploaded.

An attachment has no file name here: a name may be personal ("passport_Ivanenko.jpg"), so the
case keeps only the officer's description, sealed like any note.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from domain.agreements import Frozen
from domain.values import NoteRecord, PartySide

# The types an attachment may be, as sniffed from its content (never from its name).
MediaType = Literal["application/pdf", "image/jpeg", "image/png"]
MEDIA_TYPES: tuple[str, ...] = ("application/pdf", "image/jpeg", "image/png")
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
AttachmentId = Annotated[str, Field(pattern=r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")]


class AttachmentRecord(Frozen):
    """One attachment of a case: its id, the SHA-256 and size of its plaintext bytes, the
    sniffed media type, the side and officer that added it, when, and its sealed description."""

    attachment_id: AttachmentId
    sha256: Sha256
    media_type: MediaType
    size: Annotated[int, Field(gt=0)]
    side: PartySide
    by: str
    at: AwareDatetime
    note: NoteRecord | None = None
