"""The case page's escalations section (issue 17): the limits of the caller's side escalated to
its supervisors and not yet acknowledged, and for a supervisor the button that acknowledges
them, which stops their repeats (`domain.escalations`). The button posts here; this calls the
API's own endpoint, so the page and `POST /cases/{id}/escalations/acknowledge` decide alike."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.command_bodies import EmptyBody
from api.deps import writer
from api.web import labels
from api.web.case_page import _call, _idempotency_key, _redirect, _session, api_endpoint
from api.web.pages import SignedIn, WebRoute
from api.web.session import Flash, check_csrf

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ACKNOWLEDGE = "acknowledge_escalation"


@router.post("/ui/cases/{case_id}/escalations/acknowledge")
async def acknowledge(case_id: str, page: SignedIn) -> Response:
    form = await page.request.form()
    check_csrf(_session(page).csrf, form)
    back = f"/ui/cases/{case_id}#escalations"
    answer, error, _ = await _call(
        lambda: api_endpoint(ACKNOWLEDGE)(
            case_id=case_id,
            body=EmptyBody(),
            request=page.request,
            services=page.services,
            caller=writer(page.principal),
            idempotency_key=_idempotency_key(form),
        )
    )
    if answer is None:
        return _redirect(page, back, Flash(error=error, form=ACKNOWLEDGE))
    notice = page._("%(action)s: done.") % {"action": page._(labels.label("action", ACKNOWLEDGE))}
    return _redirect(page, back, Flash(notice=notice))
