"""Reading an uploaded passport or identity card image for the API, the pages and (later) a
case's attachments: the upload checked (PNG or JPEG by its content, at most `MAX_SCAN_BYTES`),
the MRZ read off the event loop with a deadline, and the reading turned into what it offers to
fill: the open-case form's person fields and an evidence entry. The image is never stored and
nothing read from it is logged.

`scan_image(data, today)` is the one entry point: `POST /mrz/read`, the pages' "Read from a
scan" and the CLI call it; `mrz_answer(data, today)` adds the API's answer (or its 422), for any
endpoint that has an image's bytes, such as a case attachment's once fetched and authorised.
The request body cap (api/limits.py, 1 MiB for most paths) must let these uploads through.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any, Literal

import puremagic
import structlog
from pydantic import BaseModel

from adapters.mrz_scan import MrzScan, TesseractUnavailable, read_mrz
from api.problems import Problem

log = structlog.get_logger(__name__)

MAX_SCAN_BYTES = 10 * 1024 * 1024
SCAN_DEADLINE_SECONDS = 20.0
IMAGE_TYPES = ("image/png", "image/jpeg")
NO_MRZ_TYPE = "no-readable-mrz"
EvidenceKind = Literal["passport", "identity_card"]
EVIDENCE_KIND: dict[str, EvidenceKind] = {"P": "passport", "I": "identity_card"}


class EvidenceSuggestion(BaseModel):
    kind: EvidenceKind
    number: str


class MrzSuggestions(BaseModel):
    """Values offered for the open-case form (`person.*`, `evidence.0.*`): the officer
    confirms them before anything is recorded."""

    person: dict[str, str]
    evidence: EvidenceSuggestion


def checked_image(data: bytes) -> str:
    """The upload's media type, sniffed from its content; a 413 or 415 problem otherwise."""
    if len(data) > MAX_SCAN_BYTES:
        raise Problem(
            413,
            "Too large",
            f"a scan may have at most {MAX_SCAN_BYTES // (1024 * 1024)} MiB",
            type_="too-large",
        )
    try:
        found = puremagic.from_string(data, mime=True) if data else ""
    except puremagic.PureError:
        found = ""
    if found not in IMAGE_TYPES:
        raise Problem(
            415,
            "Unsupported media type",
            "a scan must be a PNG or JPEG image",
            type_="unsupported-media-type",
        )
    return found


async def scan_image(data: bytes, today: date) -> MrzScan:
    """The MRZ of an uploaded image, read in a worker thread within the deadline.

    Raises `Problem` 413/415 for an upload that is no usable image and 503 when Tesseract is
    not installed; an image without a readable zone is a result with `found=False`."""
    checked_image(data)
    try:
        scan = await asyncio.wait_for(
            asyncio.to_thread(read_mrz, data, today=today, deadline=SCAN_DEADLINE_SECONDS),
            timeout=SCAN_DEADLINE_SECONDS + 5,
        )
    except TimeoutError:
        scan = MrzScan(found=False, reason="reading the image took too long")
    except TesseractUnavailable as error:
        log.error("mrz: OCR unavailable", error=str(error))
        raise Problem(503, "Service unavailable", "OCR is not installed here") from error
    log.info("mrz: scan read", found=scan.found, valid=bool(scan.result and scan.result.valid))
    return scan


async def mrz_answer(data: bytes, today: date) -> dict[str, Any]:
    """The JSON `POST /mrz/read` answers for an image's bytes: `scan_answer`, or the 422 problem
    `no_mrz` raised (and 413/415/503 as `scan_image` raises them)."""
    scan = await scan_image(data, today)
    if not scan.found:
        raise no_mrz(scan)
    return scan_answer(scan)


def no_mrz(scan: MrzScan) -> Problem:
    """The 422 problem of a scan without a readable MRZ."""
    return Problem(
        422,
        "No readable MRZ",
        scan.reason or "no readable MRZ was found in the image",
        type_=NO_MRZ_TYPE,
        errors=[{"field": "file", "in": "body", "message": "no readable MRZ", "type": "no_mrz"}],
    )


def suggestions(scan: MrzScan) -> MrzSuggestions:
    """Person fields and an evidence entry from a reading (`scan.found` must be true)."""
    assert scan.result is not None
    fields = scan.result.fields
    person = {
        "surname": fields.surname.title(),
        "given_names": fields.given_names.title(),
        "sex": fields.sex if fields.sex in ("F", "M", "X") else "",
        "nationality": fields.nationality,
        "birth_date": fields.birth_date.isoformat() if fields.birth_date else "",
    }
    kind = EVIDENCE_KIND.get(fields.document_code[:1], "identity_card")
    return MrzSuggestions(
        person={k: v for k, v in person.items() if v},
        evidence=EvidenceSuggestion(kind=kind, number=fields.document_number),
    )


def scan_answer(scan: MrzScan) -> dict[str, Any]:
    """The JSON of a reading: the fields, which check digits passed and what it offers."""
    assert scan.result is not None
    result = scan.result
    return {
        "valid": result.valid,
        "format": result.format,
        "fields": result.fields.model_dump(mode="json"),
        "lines": list(scan.lines),
        "rotation": scan.rotation,
        "check_digits": {c.name: c.ok for c in result.checks if c.kind == "check_digit"},
        "failed": [c.name for c in result.failed],
        "suggested": suggestions(scan).model_dump(mode="json"),
    }
