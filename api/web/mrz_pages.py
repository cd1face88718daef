""" "Read from a scan" on the pages: the open-case form and the case page's evidence form take a
passport or identity card image, read its MRZ (api/mrz_scans.py) and come back pre-filled with
what it offers, for the officer to check and confirm. No JavaScript: the scan is posted with the
form (a second submit button with its own `formaction`), and the answer is the usual
POST/redirect/GET with the values in the one-shot flash. The image is not stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from api.case_access import load_case
from api.command_bodies import EvidenceBody
from api.deps import writer
from api.mrz_scans import MAX_SCAN_BYTES, MrzSuggestions, scan_image, suggestions
from api.problems import Problem
from api.web.evidence_form import EVIDENCE_FIELDS, EVIDENCE_FORM
from api.web.forms import validation_messages
from api.web.open_form import EVIDENCE_ROWS, form_names
from api.web.page_actions import (
    api_endpoint,
    post_command,
    posted_form,
    redirect,
    sent_notice,
)
from api.web.pages import Page, SignedIn, WebRoute
from api.web.session import Flash
from domain.identity.mrz import MrzResult

router = APIRouter(route_class=WebRoute, include_in_schema=False)


async def _scanned(page: Page, form: FormData) -> tuple[MrzSuggestions | None, str]:
    """What the posted scan offers (None: nothing) and a message for the officer."""
    upload = form.get("scan")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, page._("Choose an image of the document first.")
    data = await upload.read(MAX_SCAN_BYTES + 1)
    try:
        scan = await scan_image(data, date.today())
    except Problem as problem:
        if problem.status == 503:
            raise
        return None, page._("The file is not a PNG or JPEG image of at most 10 MiB.")
    if not scan.found or scan.result is None:
        return None, page._("No readable MRZ was found in the image.")
    return suggestions(scan), read_message(page, scan.result)


def read_message(page: Page, result: MrzResult) -> str:
    if result.valid:
        return page._("MRZ read, every check digit passed: check the values and confirm.")
    failed = ", ".join(c.name for c in result.failed)
    return page._("MRZ read, but these checks failed: %(checks)s. Check every value.") % {
        "checks": failed
    }


@router.post("/ui/cases/new/mrz")
async def open_form_from_scan(page: SignedIn) -> Response:
    """The open-case form again, with the person and an evidence row filled from the scan."""
    form = await posted_form(page, max_files=2)
    writer(page.principal)
    values = {
        name: str(form.get(name, ""))
        for name in form_names()
        if isinstance(form.get(name), str) and form.get(name)
    }
    offered, message = await _scanned(page, form)
    if offered is None:
        flash = Flash(error=message, form="open_case", values=values)
        return redirect(page, "/ui/cases/new", flash)
    values |= {f"person.{name}": value for name, value in offered.person.items()}
    row = _evidence_row(values)
    values[f"evidence.{row}.kind"] = offered.evidence.kind
    values[f"evidence.{row}.number"] = offered.evidence.number
    return redirect(page, "/ui/cases/new", Flash(notice=message, form="open_case", values=values))


def _evidence_row(values: dict[str, Any]) -> int:
    """The first empty evidence row (or the last), so what the officer typed stays."""
    for row in range(EVIDENCE_ROWS):
        if not values.get(f"evidence.{row}.kind") and not values.get(f"evidence.{row}.number"):
            return row
    return EVIDENCE_ROWS - 1


@router.post("/ui/cases/{case_id}/mrz")
async def evidence_from_scan(case_id: str, page: SignedIn) -> Response:
    """The case page's evidence form again, filled with the document the scan shows."""
    form = await posted_form(page, max_files=2)
    caller = writer(page.principal)
    await load_case(page.services, caller, case_id)
    back = f"/ui/cases/{case_id}#{EVIDENCE_FORM}"
    typed = {f.name: str(form.get(f.name, "")) for f in EVIDENCE_FIELDS if form.get(f.name)}
    offered, message = await _scanned(page, form)
    if offered is None:
        return redirect(page, back, Flash(error=message, form=EVIDENCE_FORM, values=typed))
    values = {"kind": offered.evidence.kind, "number": offered.evidence.number}
    return redirect(page, back, Flash(notice=message, form=EVIDENCE_FORM, values=values))


@router.post("/ui/cases/{case_id}/evidence")
async def add_evidence(case_id: str, page: SignedIn) -> Response:
    """One piece of evidence, typed or confirmed after a scan, through the API's endpoint."""
    form = await posted_form(page)
    caller = writer(page.principal)
    back = f"/ui/cases/{case_id}"
    values = {f.name: str(form.get(f.name, "")).strip() for f in EVIDENCE_FIELDS}
    item = {k: v for k, v in values.items() if v}
    if not item.get("kind"):
        flash = Flash(
            error=page._("Please correct the fields marked below."),
            form=EVIDENCE_FORM,
            errors={"kind": [page._("Enter the kind of document.")]},
            values=item,
        )
        return redirect(page, back + f"#{EVIDENCE_FORM}", flash)
    try:
        body = EvidenceBody.model_validate({"items": [item]})
    except ValidationError as invalid:
        errors = {k.rsplit(".", 1)[-1]: v for k, v in validation_messages(invalid).items()}
        flash = Flash(error=page._("Please correct the fields marked below."),
                      form=EVIDENCE_FORM, errors=errors, values=item)  # fmt: skip
        return redirect(page, back + f"#{EVIDENCE_FORM}", flash)
    endpoint = api_endpoint("add_evidence")
    answer, error, _ = await post_command(page, endpoint, case_id, body, form, caller)
    if answer is None:
        flash = Flash(error=error, form=EVIDENCE_FORM, values=item)
        return redirect(page, back + f"#{EVIDENCE_FORM}", flash)
    if sending := answer.get("sending"):  # a shared case: on its way to the other node
        notice = sent_notice(page, "add_evidence", sending["recipient"])
        return redirect(page, back, Flash(notice=notice))
    return redirect(page, back, Flash(notice=page._("Evidence added.")))
