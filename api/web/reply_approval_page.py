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
from api.web import labels
from api.web.case_page import _back, _call, _idempotency_key, _redirect, _session, api_endpoint
from api.web.forms import FormErrors, lines, validation_messages
from api.web.pages import SignedIn, WebRoute
from api.web.session import Flash, check_csrf

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
    session = _session(page)
    form = await page.request.form()
    check_csrf(session.csrf, form)
    name = COMMANDS.get(action)
    if name is None:
        raise Problem(404, "Not found", f"no reply action {action}")
    caller = writer(page.principal)
    back = f"/ui/cases/{case_id}"
    try:
        body = reply_body(action, str(form.get("reasons", "")))
    except FormErrors as invalid:
        return _back(page, back, form, name, ["reasons"], errors=invalid.errors)
    answer, error, errors = await _call(
        lambda: api_endpoint(name)(
            case_id=case_id,
            body=body,
            request=page.request,
            services=page.services,
            caller=caller,
            idempotency_key=_idempotency_key(form),
        )
    )
    if answer is None:
        return _back(page, back, form, name, ["reasons"], error=error, errors=errors)
    label = page._(labels.label("action", name))
    if sending := answer.get("sending"):  # a shared case: the reply is on its way
        notice = page._(
            "%(action)s: sent to %(state)s. It takes effect on both sides once %(state)s "
            "acknowledges receipt."
        ) % {"action": label, "state": sending["recipient"]}
        return _redirect(page, back, Flash(notice=notice))
    notice = page._("%(action)s: done. The case is now “%(status)s”.") % {
        "action": label,
        "status": page._(labels.label("status", answer.get("status"))),
    }
    return _redirect(page, back, Flash(notice=notice))
