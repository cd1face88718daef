"""The case page's printable documents: `/ui/cases/{id}/documents/<name>.pdf` downloads one
with the signed-in caller's session, through the API's own function (same access rules, same
disclosure log entry), and `links` lists those the case has for the page's buttons."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from adapters.documents import DOCUMENTS, available
from api.problems import Problem
from api.routes.documents import document_pdf
from api.web.i18n import N_
from api.web.pages import SignedIn, WebRoute
from domain.state import CaseState
from domain.values import Person

router = APIRouter(route_class=WebRoute, include_in_schema=False)
TITLES = {
    "application": N_("Readmission application (PDF)"),
    "transit-application": N_("Transit application (PDF)"),
    "reply": N_("Reply (PDF)"),
    "transfer-notice": N_("Notice of transfer (PDF)"),
}


def links(opened: CaseState) -> list[dict[str, str]]:
    """The documents the case has now: name and (untranslated) title, for the page; none once
    its personal data is erased (`opened`: the case with its personal data opened)."""
    if not isinstance(opened.person, Person):
        return []
    return [{"name": name, "title": TITLES[name]} for name in available(opened)]


@router.get("/ui/cases/{case_id}/documents/{document}.pdf")
async def download(case_id: str, document: str, page: SignedIn) -> Response:
    if document not in DOCUMENTS:
        raise Problem(404, "Not found", f"no document {document}")
    return await document_pdf(
        page.services,
        page.principal,
        case_id,
        document,
        endpoint=f"GET /ui/cases/{{id}}/documents/{document}.pdf",
    )
