"""The case page's escalations section (issue 17): the limits of the caller's side escalated to
its supervisors and not yet acknowledged, and for a supervisor the button that acknowledges
them, which stops their repeats (`domain.escalations`). The button posts here; this calls the
API's own endpoint, so the page and `POST /cases/{id}/escalations/acknowledge` decide alike."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.command_bodies import EmptyBody
from api.web import labels
from api.web.page_actions import api_endpoint, post_command, posted_form, redirect
from api.web.pages import SignedIn, WebRoute
from api.web.session import Flash

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ACKNOWLEDGE = "acknowledge_escalation"


@router.post("/ui/cases/{case_id}/escalations/acknowledge")
async def acknowledge(case_id: str, page: SignedIn) -> Response:
    form = await posted_form(page)
    back = f"/ui/cases/{case_id}#escalations"
    endpoint = api_endpoint(ACKNOWLEDGE)
    answer, error, _ = await post_command(page, endpoint, case_id, EmptyBody(), form)
    if answer is None:
        return redirect(page, back, Flash(error=error, form=ACKNOWLEDGE))
    notice = page._("%(action)s: done.") % {"action": page._(labels.label("action", ACKNOWLEDGE))}
    return redirect(page, back, Flash(notice=notice))
