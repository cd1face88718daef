"""`POST /mrz/read`: the MRZ of an uploaded passport or identity card image, checked, with the
values it offers for the open-case form (api/mrz_scans.py). Officers and supervisors only: it
reads personal data off a document to fill in a case; the image is not stored.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile

from api.deps import WriterDep
from api.mrz_scans import MAX_SCAN_BYTES, mrz_answer

router = APIRouter(
    prefix="/mrz",
    tags=["identity"],
    responses={
        403: {"description": "auditors and administrators cannot read scans (problem+json)"},
    },
)


@router.post(
    "/read",
    summary="Read the MRZ of a passport or identity card image and offer its fields",
    responses={
        413: {"description": "the image is larger than the limit (problem+json)"},
        415: {"description": "not a PNG or JPEG image (problem+json)"},
        422: {"description": "no readable MRZ in the image, or no file (problem+json)"},
        503: {"description": "OCR is not installed on this server (problem+json)"},
    },
)
async def read_scan(
    file: Annotated[UploadFile, File(description="a PNG or JPEG image of the document")],
    _: WriterDep,
) -> dict[str, Any]:
    return await mrz_answer(await file.read(MAX_SCAN_BYTES + 1), date.today())
