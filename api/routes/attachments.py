"""A case's attachments over HTTP: `POST /cases/{id}/attachments` (multipart: `file`, optional
`description`), `GET /cases/{id}/attachments`, `GET /cases/{id}/attachments/{attachment_id}`
(the bytes as uploaded), `POST /cases/{id}/attachments/{attachment_id}/mrz` (the MRZ of an
image attachment, api/attachment_mrz.py). The rules are api/attachments.py's, which the pages share.

A retry of an upload needs no Idempotency-Key: attachments are content-addressed, so the same
bytes sent again answer 200 with the attachment recorded the first time (201 when new).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api import attachment_mrz, attachments
from api.attachments import ATTACHMENT_ID_PATTERN
from api.deps import PrincipalDep, ServicesDep, WriterDep
from api.routes.cases import CaseId

router = APIRouter(
    prefix="/cases",
    tags=["attachments"],
    responses={
        403: {"description": "not the caller's role or node (problem+json)"},
        404: {"description": "no such case or attachment, or not the caller's (problem+json)"},
        410: {"description": "the case's personal data, its attachments with it, was erased"},
    },
)
AttachmentId = Annotated[
    str, Path(pattern=ATTACHMENT_ID_PATTERN, examples=["3f2b8c1e-9d4a-4c6b-8e2f-0a1b2c3d4e5f"])
]


class AttachmentOut(BaseModel):
    attachment_id: str
    media_type: str
    size: int
    sha256: str
    side: str
    by: str
    at: str
    description: Any = None
    download: str
    sending: dict[str, Any] | None = None  # 202: on its way to the other node of a shared case


class AttachmentList(BaseModel):
    items: list[AttachmentOut]


@router.post(
    "/{case_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    summary="Add a file (PDF, JPEG or PNG) to the case, sealed with the case's key",
    responses={
        200: {"description": "the same bytes were already attached: that attachment"},
        202: {"description": "a shared case: on its way to the other node with its file"},
        409: {"description": "the case refuses it (closed, or a message in flight)"},
        413: {"description": "larger than READMIT_ATTACHMENT_MAX_BYTES (problem+json)"},
        415: {"description": "not a PDF, JPEG or PNG by its content (problem+json)"},
    },
)
async def add_attachment(
    case_id: CaseId,
    file: Annotated[UploadFile, File(description="the file; its type is read from its bytes")],
    services: ServicesDep,
    caller: WriterDep,
    description: Annotated[str | None, Form(max_length=400)] = None,
) -> Any:
    data = await file.read(services.settings.attachment_max_bytes + 1)
    added = await attachments.add(services, caller, case_id, data, description)
    sealer = await services.vault.sealer(case_id)
    body = attachments.view(added.attachment, sealer, case_id)
    if added.sending:  # a shared case: recorded on both nodes once the other acknowledges it
        return JSONResponse({**body, "sending": added.sending}, status_code=202)
    return JSONResponse(body, status_code=201 if added.created else 200)


@router.get(
    "/{case_id}/attachments",
    response_model=AttachmentList,
    summary="The case's attachments, oldest first",
)
async def list_attachments(
    case_id: CaseId, services: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    records, sealer = await attachments.listed(services, caller, case_id)
    return {"items": [attachments.view(r, sealer, case_id) for r in records]}


@router.get(
    "/{case_id}/attachments/{attachment_id}",
    summary="One attachment's bytes, exactly as uploaded",
    response_class=Response,
    responses={200: {"content": {t: {} for t in ("application/pdf", "image/jpeg", "image/png")}}},
)
async def get_attachment(
    case_id: CaseId, attachment_id: AttachmentId, services: ServicesDep, caller: PrincipalDep
) -> Response:
    record, data = await attachments.content(
        services, caller, case_id, attachment_id, "GET /cases/{id}/attachments/{attachment_id}"
    )
    return Response(
        content=data,
        media_type=record.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{attachments.file_name(record)}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post(
    "/{case_id}/attachments/{attachment_id}/mrz",
    summary="Read the MRZ of an attachment's passport or identity card image (OCR)",
    description=(
        "The attachment (a PNG or JPEG already in the case's files) read as `POST /mrz/read` "
        "reads an upload, answering the same JSON: the fields, their check digits and what it "
        "offers for the person and evidence fields. The case's writers only; the read of the "
        "bytes is in the disclosure log (purpose `mrz reading`). Nothing is stored."
    ),
    responses={
        413: {"description": "the image is larger than a scan may be (problem+json)"},
        415: {"description": "the attachment is not an image (a PDF) (problem+json)"},
        422: {"description": "no readable MRZ in the image (problem+json)"},
        503: {"description": "OCR is not installed on this server (problem+json)"},
    },
)
async def read_attachment_mrz(
    case_id: CaseId, attachment_id: AttachmentId, services: ServicesDep, caller: WriterDep
) -> dict[str, Any]:
    return await attachment_mrz.answer(services, caller, case_id, attachment_id, date.today())
