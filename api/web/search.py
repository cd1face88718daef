"""The person search page: a form posted (names never in a URL) and the cases it finds, each
with its score, the criteria that matched and a link; served by the API's search functions, so
the page and `POST /search/persons` find, score, scope and log alike."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from adapters.protection.blind_index import PersonQuery
from api.person_search import refuse_admin, search_persons
from api.routes.search import PersonSearchBody
from api.web.pages import SignedIn, WebRoute
from api.web.session import check_csrf

router = APIRouter(route_class=WebRoute, include_in_schema=False)
FIELDS = ("surname", "given_names", "birth_date", "document_number")
PAGE_SIZE = 50


@router.get("/ui/search", response_class=HTMLResponse)
async def search_form(page: SignedIn) -> HTMLResponse:
    refuse_admin(page.principal)
    return page.render("search.html", values={}, errors={}, items=None)


@router.post("/ui/search", response_class=HTMLResponse)
async def search(page: SignedIn) -> HTMLResponse:
    assert page.session is not None
    form = await page.request.form()
    check_csrf(page.session.csrf, form)
    refuse_admin(page.principal)
    # bad input shows the form again with its message (200, as the other forms' messages are
    # shown); the API answers 422 for the same input
    values = {name: str(form.get(name) or "").strip() for name in FIELDS}
    given: dict[str, Any] = {k: v for k, v in values.items() if v}
    try:
        body = PersonSearchBody.model_validate({**given, "limit": PAGE_SIZE})
    except ValidationError as invalid:
        errors = {
            str(e["loc"][0]): page._("This value is not valid.")
            for e in invalid.errors()
            if e["loc"]
        }
        return page.render("search.html", values=values, errors=errors, items=None)
    query = PersonQuery(body.surname, body.given_names, body.birth_date, body.document_number)
    if not query.asked():
        message = page._("Give a surname, given names, a date of birth or a document number.")
        return page.render("search.html", values=values, errors={"": message}, items=None)
    items = await search_persons(
        page.services, page.principal, query, limit=PAGE_SIZE, endpoint="POST /ui/search"
    )
    return page.render("search.html", values=values, errors={}, items=items)
