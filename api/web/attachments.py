"""The case page's files: the list with download links, and the upload form (multipart, with
the session's CSRF token like every form). Both go through api/attachments.py, so the page
answers exactly as the API does: the same sniffing and limits, the same sealing, the same
disclosure log entry for each download.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from adapters.protection.vault import DataErased
from adapters.temporal.cases import CommandRefused
from api import attachments
from api.deps import writer
from api.problems import Problem
from api.web.page_actions import posted_form, redirect
from api.web.pages import Page, SignedIn, WebRoute
from api.web.session import Flash
from domain.state import CaseState

router = APIRouter(route_class=WebRoute, include_in_schema=False)
FORM = "add_attachment"  # the flash's form name: the error is shown beside the upload form


async def attachment_rows(page: Page, state: CaseState) -> list[dict[str, Any]]:
    """The case's files for the case page, descriptions opened (the page view's own disclosure
    entry covers them); empty when it has none."""
    if not state.attachments or state.case_id is None:
        return []
    try:
        sealer = await page.services.vault.sealer(state.case_id)
    except DataErased:
        sealer = None
    return [attachments.view(a, sealer, state.case_id) for a in state.attachments]


@router.post("/ui/cases/{case_id}/attachments")
async def add_attachment(case_id: str, page: SignedIn) -> Response:
    form = await posted_form(page)
    caller = writer(page.principal)
    back = f"/ui/cases/{case_id}#attachments-heading"
    upload = form.get("file")
    description = form.get("description")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Problem(422, "Invalid input", page._("Choose a file to add."))
        data = await upload.read(page.services.settings.attachment_max_bytes + 1)
        added = await attachments.add(
            page.services,
            caller,
            case_id,
            data,
            description if isinstance(description, str) else None,
        )
    except Problem as problem:
        if problem.status == 404:
            raise
        flash = Flash(error=problem.detail or problem.title, form=FORM)
        return redirect(page, back, flash)
    except CommandRefused as refused:  # the case says no (closed, a message in flight...)
        return redirect(page, back, Flash(error=refused.message, form=FORM))
    except DataErased as erased:  # the API's 410: its message names the case alone
        return redirect(page, back, Flash(error=str(erased), form=FORM))
    if added.sending:  # a shared case: on its way to the other node with its file
        notice = page._(
            "File sent to %(state)s. It is added on both sides once %(state)s acknowledges receipt."
        ) % {"state": added.sending["recipient"]}
    elif added.created:
        notice = page._("File added: %(id)s.") % {"id": added.attachment.attachment_id}
    else:
        notice = page._("This file is already attached: %(id)s.") % {
            "id": added.attachment.attachment_id
        }
    return redirect(page, back, Flash(notice=notice))


@router.get("/ui/cases/{case_id}/attachments/{attachment_id}")
async def download(case_id: str, attachment_id: str, page: SignedIn) -> Response:
    record, data = await attachments.content(
        page.services,
        page.principal,
        case_id,
        attachment_id,
        "GET /ui/cases/{id}/attachments/{attachment_id}",
    )
    return Response(
        content=data,
        media_type=record.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{attachments.file_name(record)}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
