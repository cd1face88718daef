"""The case page's half of a reply's approval: a supervisor of the replying state approves the
drafted reply (it leaves now, and counts from now) or returns it to its officer with reasons.

The draft itself is shown by the case page (templates/reply_approval.html, from the case's
`reply_approval`); these forms post here and call the API's own endpoints
(`POST /cases/{id}/reply/approve` and `/reply/return`), so the page and the API cannot disagree
about who may approve.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from api.command_bodies import EmptyBody, ReasonsBody
from api.deps import writer
from api.problems import Problem
from api.web.forms import FormErrors, lines, validation_messages
from api.web.page_actions import (
    api_endpoint,
    back,
    done_notice,
    post_command,
    posted_form,
    redirect,
    sent_notice,
)
from api.web.pages import SignedIn, WebRoute
from api.web.session import Flash

router = APIRouter(route_class=WebRoute, include_in_schema=False)
# the page's action -> the API's command
COMMANDS = {"approve": "approve_reply", "return": "return_reply"}


def reply_body(action: str, reasons: str) -> BaseModel:
    """The API body of a form: none to approve, one reason a line to return."""
    if action == "approve":
        return EmptyBody()
    try:
        return ReasonsBody(reasons=lines(reasons))
    except ValidationError as error:
        raise FormErrors(validation_messages(error)) from None


@router.post("/ui/cases/{case_id}/reply/{action}")
async def reply_action(case_id: str, action: str, page: SignedIn) -> Response:
    form = await posted_form(page)
    name = COMMANDS.get(action)
    if name is None:
        raise Problem(404, "Not found", f"no reply action {action}")
    caller = writer(page.principal)
    target = f"/ui/cases/{case_id}"
    try:
        body = reply_body(action, str(form.get("reasons", "")))
    except FormErrors as invalid:
        return back(page, target, form, name, ["reasons"], errors=invalid.errors)
    answer, error, errors = await post_command(
        page, api_endpoint(name), case_id, body, form, caller
    )
    if answer is None:
        return back(page, target, form, name, ["reasons"], error=error, errors=errors)
    if sending := answer.get("sending"):  # a shared case: the reply is on its way
        notice = sent_notice(page, name, sending["recipient"])
        return redirect(page, target, Flash(notice=notice))
    notice = done_notice(page, name, answer.get("status"))
    return redirect(page, target, Flash(notice=notice))
