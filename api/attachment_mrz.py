"""The MRZ of a case's attachment: a passport or identity card photo already in the case's
files, read by OCR (api/mrz_scans.py) to fill the person and evidence fields, for the API's
`POST /cases/{id}/attachments/{attachment_id}/mrz`, the case page's "Read the MRZ" and the CLI.

Only the case's writers read it (officers and supervisors of a party; auditors 403, a case the
caller cannot see 404). A PDF is no image: 415 before any byte is read. The read of the bytes
is in the disclosure log under its own purpose, "mrz reading"; nothing read is stored or logged.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from adapters.mrz_scan import MrzScan
from api import attachments
from api.auth import Principal
from api.mrz_scans import IMAGE_TYPES, mrz_answer, scan_image
from api.problems import Problem
from api.services import Services

PURPOSE = "mrz reading"
NOT_AN_IMAGE_TYPE = "not-an-image"


def not_an_image(attachment_id: str, media_type: str) -> Problem:
    """The 415 problem of an attachment whose type OCR cannot read (a PDF)."""
    return Problem(
        415,
        "Unsupported media type",
        f"attachment {attachment_id} is not an image ({media_type}): the MRZ is read from a "
        "PNG or JPEG photo or scan",
        type_=NOT_AN_IMAGE_TYPE,
    )


async def image_bytes(
    services: Services, caller: Principal, case_id: str, attachment_id: str, endpoint: str
) -> bytes:
    """The attachment's bytes once the caller may read them and they are an image (415 for a
    PDF, before anything is read or logged); the read is logged as an MRZ reading."""
    record = await attachments.find(services, caller, case_id, attachment_id)
    if record.media_type not in IMAGE_TYPES:
        raise not_an_image(attachment_id, record.media_type)
    _, data = await attachments.content(
        services, caller, case_id, attachment_id, endpoint, purpose=PURPOSE
    )
    return data


async def answer(
    services: Services, caller: Principal, case_id: str, attachment_id: str, today: date
) -> dict[str, Any]:
    """The `POST /mrz/read` answer for the attachment's image, or its 422 (no readable MRZ)."""
    endpoint = "POST /cases/{id}/attachments/{attachment_id}/mrz"
    data = await image_bytes(services, caller, case_id, attachment_id, endpoint)
    return await mrz_answer(data, today)


async def scan(
    services: Services, caller: Principal, case_id: str, attachment_id: str, today: date
) -> MrzScan:
    """The reading of the attachment's image for the case page (found or not)."""
    endpoint = "POST /ui/cases/{id}/attachments/{attachment_id}/mrz"
    data = await image_bytes(services, caller, case_id, attachment_id, endpoint)
    return await scan_image(data, today)
