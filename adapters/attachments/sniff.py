"""What an uploaded file is, judged from its bytes alone (never its name or the client's
Content-Type): PDF, JPEG or PNG, else nothing. `puremagic` names the candidates; the type is
accepted only if it is among puremagic's most confident matches and the file also begins with
that type's own signature, so a file that merely contains one (a PDF inside a ZIP) is refused."""

from __future__ import annotations

import puremagic

from domain.attachment_record import MEDIA_TYPES

# Each allowed type's signature at offset 0, and the extension a download is named with.
SIGNATURES: dict[str, bytes] = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
EXTENSIONS: dict[str, str] = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
assert set(SIGNATURES) == set(EXTENSIONS) == set(MEDIA_TYPES)


def sniff(data: bytes) -> str | None:
    """The allowed media type of `data`, or None (empty, unknown, or not PDF, JPEG or PNG)."""
    if not data:
        return None
    try:
        matches = puremagic.magic_string(data)
    except (puremagic.PureError, ValueError):
        return None
    if not matches:
        return None
    best = max(m.confidence for m in matches)
    for match in matches:
        media = match.mime_type
        if match.confidence == best and media in SIGNATURES and data.startswith(SIGNATURES[media]):
            return str(media)
    return None
