""" "Read the MRZ" beside each PNG or JPEG in the case page's Files section: the attachment read
by OCR (api/attachment_mrz.py: the case's writers only, the read in the disclosure log) and the
case page shown again with what it offers, through the one-shot flash as "Read from a scan"
(api/web/mrz_pages.py) does.

The requesting side, while evidence may still be added (the evidence form is shown), gets the
evidence form filled with the document's kind and number, to check and confirm. Anyone else who
may read it (the requested side, or the requesting side once evidence is closed) cannot add
evidence: the reading is shown as a notice instead, for comparing with the case's data.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import Response

from adapters.mrz_scan import MrzScan
from api import attachment_mrz
from api.case_access import load_case
from api.deps import writer
from api.mrz_scans import suggestions
from api.problems import Problem
from api.web.evidence_form import EVIDENCE_FORM
from api.web.mrz_pages import read_message
from api.web.page_actions import posted_form, redirect
from api.web.pages import Page, SignedIn, WebRoute
from api.web.session import Flash
from domain.values import Status

router = APIRouter(route_class=WebRoute, include_in_schema=False)
FORM = "attachment_mrz"  # the flash's form name of an error (labels: "Read the MRZ")
EVIDENCE_OPEN = (Status.DRAFT, Status.SUBMITTED, Status.RECEIVED)  # as case.html offers the form


@router.post("/ui/cases/{case_id}/attachments/{attachment_id}/mrz")
async def read_attachment_mrz(case_id: str, attachment_id: str, page: SignedIn) -> Response:
    await posted_form(page)  # the CSRF check
    caller = writer(page.principal)
    _, state = await load_case(page.services, caller, case_id)
    back = f"/ui/cases/{case_id}"
    try:
        scan = await attachment_mrz.scan(
            page.services, caller, case_id, attachment_id, date.today()
        )
    except Problem as problem:
        if problem.status in (404, 503):
            raise
        return redirect(page, back, Flash(error=problem.detail or problem.title, form=FORM))
    if not scan.found or scan.result is None:
        error = page._("No readable MRZ was found in the image.")
        return redirect(page, back, Flash(error=error, form=FORM))
    offered = suggestions(scan)
    fills = state.terms is not None and caller.state == state.terms.requesting
    if fills and state.status in EVIDENCE_OPEN:
        values = {"kind": offered.evidence.kind, "number": offered.evidence.number}
        flash = Flash(notice=read_message(page, scan.result), form=EVIDENCE_FORM, values=values)
        return redirect(page, f"{back}#{EVIDENCE_FORM}", flash)
    return redirect(page, back, Flash(notice=reading(page, scan)))  # the notice on top


def reading(page: Page, scan: MrzScan) -> str:
    """The reading in one line, for a caller who cannot add it as evidence."""
    assert scan.result is not None
    fields = scan.result.fields
    kind = page._("Passport") if fields.document_code[:1] == "P" else page._("Identity card")
    shown = {
        "document": f"{kind} {fields.document_number}",
        "name": f"{fields.surname}, {fields.given_names}".strip(", "),
        "birth": fields.birth_date.isoformat() if fields.birth_date else "—",
        "nationality": fields.nationality or "—",
    }
    if scan.result.valid:
        text = page._(
            "MRZ of the file, every check digit passed: %(document)s · %(name)s · born "
            "%(birth)s · nationality %(nationality)s."
        )
        return text % shown
    text = page._(
        "MRZ of the file, but these checks failed: %(checks)s. Check every value: "
        "%(document)s · %(name)s · born %(birth)s · nationality %(nationality)s."
    )
    return text % {**shown, "checks": ", ".join(c.name for c in scan.result.failed)}
