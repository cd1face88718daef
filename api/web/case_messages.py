"""`POST /ui/cases/{id}/messages`: the case page's form to write to the other state. It calls
the API's own endpoint function (api/routes/messages.py), so the page and the API agree on who
may write what; a refusal comes back to the form with what was typed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from api.case_access import load_case
from api.deps import writer
from api.message_bodies import MessageBody
from api.routes.messages import send_case_message
from api.web.forms import raw_values
from api.web.page_actions import post_command, posted_form, redirect
from api.web.pages import Page, SignedIn, WebRoute
from api.web.session import Flash

router = APIRouter(route_class=WebRoute, include_in_schema=False)
FORM = "send_case_message"
FIELDS = ["kind", "text", "answers"]


@router.post("/ui/cases/{case_id}/messages")
async def send_message(case_id: str, page: SignedIn) -> Response:
    form = await posted_form(page)
    caller = writer(page.principal)
    await load_case(page.services, caller, case_id)
    back = f"/ui/cases/{case_id}#messages"
    given = {k: str(form.get(k, "")).strip() for k in FIELDS}
    try:
        body = MessageBody.model_validate({k: v for k, v in given.items() if v})
    except ValidationError as invalid:
        errors: dict[str, list[str]] = {}
        for e in invalid.errors():
            errors.setdefault(str(e["loc"][0]) if e["loc"] else "", []).append(e["msg"])
        return _again(page, back, form, None, errors)
    answer, error, field_errors = await post_command(
        page, send_case_message, case_id, body, form, caller
    )
    if answer is None:
        return _again(page, back, form, error, field_errors)
    if sending := answer.get("sending"):
        notice = page._(
            "Message sent to %(state)s. It shows here once %(state)s acknowledges receipt."
        ) % {"state": sending["recipient"]}
    else:
        notice = page._("Message sent.")
    return redirect(page, back, Flash(notice=notice))


def _again(
    page: Page,
    target: str,
    form: Any,
    error: str | None,
    errors: dict[str, list[str]] | None,
) -> Response:
    """Back to the form with the problem and what was typed (POST/redirect/GET)."""
    message = error or page._("Please correct the fields marked below.")
    flash = Flash(error=message, form=FORM, errors=errors or {}, values=raw_values(form, FIELDS))
    return redirect(page, target, flash)
