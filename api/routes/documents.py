"""A case's printable documents as PDF: `GET /cases/{id}/documents/<name>.pdf` for the
readmission application, the transit application, the reply and the notice of transfer.

Each is made on request from the case's events, its personal data opened for a caller who may
see the case (api/case_access.py), and never stored; each download is in the disclosure log.
A case without the document yet (no reply, no transfer scheduled) answers 409; a case the
caller may not see, 404, as every case read does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from adapters.documents import DOCUMENTS, DocumentUnavailable, render
from api.auth import Principal
from api.case_access import load_case
from api.deps import PrincipalDep, ServicesDep
from api.disclosure import record as disclose
from api.problems import Problem
from api.services import Services
from domain.commands import CASE_ID_PATTERN

router = APIRouter(
    prefix="/cases",
    tags=["documents"],
    responses={
        403: {"description": "administrators manage the directory, not cases (problem+json)"},
        404: {"description": "no such case, or not one of the caller's (problem+json)"},
        409: {"description": "the case has no such document yet (problem+json)"},
    },
)
CaseId = Annotated[str, Path(pattern=CASE_ID_PATTERN, examples=["PL-UA-2027-000123"])]
PDF = {200: {"content": {"application/pdf": {}}, "description": "the document as PDF"}}
# the personal data each document shows, as the disclosure log names it
FIELDS = {
    "application": ("person", "evidence"),
    "transit-application": ("person", "evidence"),
    "reply": ("person", "reasons"),
    "transfer-notice": ("person",),
}
TITLES = {
    "application": "The readmission application (the agreement's annexed form)",
    "transit-application": "The transit application (transit cases)",
    "reply": "The requested state's reply (once it has replied)",
    "transfer-notice": "The notice of transfer (once the transfer is scheduled)",
}


async def document_pdf(
    services: Services, caller: Principal, case_id: str, name: str, *, endpoint: str
) -> Response:
    """Document `name` of the case for `caller` as a PDF response (the API's and the pages'),
    recorded in the disclosure log once it is made."""
    _, state = await load_case(services, caller, case_id)
    opened = await services.vault.reveal(state)
    try:
        # fonts are subset and embedded: a few hundred milliseconds, off the event loop
        pdf = await asyncio.to_thread(render, name, opened)
    except DocumentUnavailable as missing:
        raise Problem(
            409, "Document not available", str(missing), type_="document-unavailable"
        ) from missing
    await disclose(
        services.pool,
        caller,
        case_id,
        purpose=f"document {name}",
        endpoint=endpoint,
        fields=FIELDS[name],
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{case_id}-{name}.pdf"',
            "Cache-Control": "no-store",
        },
    )


def _register(name: str) -> None:
    path = f"/{{case_id}}/documents/{name}.pdf"
    endpoint_name = f"GET /cases/{{id}}/documents/{name}.pdf"

    async def endpoint(case_id: CaseId, services: ServicesDep, caller: PrincipalDep) -> Response:
        return await document_pdf(services, caller, case_id, name, endpoint=endpoint_name)

    endpoint.__name__ = f"document_{name.replace('-', '_')}"
    route: Callable[..., Awaitable[Response]] = endpoint
    router.add_api_route(
        path,
        route,
        methods=["GET"],
        response_class=Response,
        responses=PDF,  # type: ignore[arg-type]
        summary=TITLES[name],
    )


for _name in DOCUMENTS:
    _register(_name)
