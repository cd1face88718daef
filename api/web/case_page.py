"""The case page (parties, person, evidence with grades, verification, deadlines, timeline and
the caller's actions as forms) and the "open a case" form.

Reads go through the API's own helpers (`load_case`, which runs `authorise`, and `case_detail`
with its `next_actions`) and every page view with personal data writes the disclosure log; forms
call the API's endpoint functions, so pages and API can never disagree about who may do what.
An action's form takes the case's terms from the stream it folds, never from the workflow: a
closed case's workflow may need a worker to answer, or be gone after its retention.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from babel import Locale
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from adapters.db.eventstore import Recorded
from api.case_access import load_case
from api.commands import ASSIGNMENT_COMMANDS, CASE_COMMANDS, PRESENTED
from api.deps import writer
from api.disclosure import record as disclose
from api.exchange_view import exchange_record
from api.person_search import earlier_cases_of
from api.problems import Problem
from api.reply_draft_view import offered_actions, visible_events
from api.views import case_detail
from api.web import labels
from api.web.assignment import ASSIGNMENT, assignment_notice, assignment_view
from api.web.attachments import attachment_rows
from api.web.documents import links as document_links
from api.web.evidence_form import EVIDENCE_FIELDS
from api.web.forms import FormErrors, action_body, fields_for
from api.web.i18n import N_
from api.web.messages_view import messages_section
from api.web.open_form import choices, form_names, open_body, open_sections
from api.web.page_actions import (
    api_endpoint,
    back,
    call_api,
    done_notice,
    idempotency_key,
    post_command,
    posted_form,
    redirect,
    sent_notice,
)
from api.web.pages import Page, SignedIn, WebRoute
from api.web.session import Flash
from api.web.timeline import build_timeline, focus
from api.web.timeline_svg import Words, render_svg
from domain.calendars import zone_of
from domain.events import Event
from domain.state import CaseState
from domain.values import Side

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ACTIONS = {command.name for command in (*CASE_COMMANDS, *ASSIGNMENT_COMMANDS)}
TIMELINE_STATUS = {
    "running": N_("running"),
    "met": N_("met"),
    "late": N_("missed"),
    "superseded": N_("replaced by an extension"),
}


def decoded(recorded: list[Recorded]) -> list[tuple[int, Event]]:
    return [(r.version, r.event()) for r in recorded]


def timeline_words(page: Page, zone: str) -> Words:
    fmt, _ = page.fmt, page._
    return Words(
        title=_("Timeline of the case"),
        now=_("now"),
        events=_("Events"),
        event=lambda code: _(labels.label("event", code)),
        limit=lambda code: _(labels.label("limit", code)),
        level=lambda code: _(labels.label("level", code)),
        status=lambda code: _(TIMELINE_STATUS.get(code, code)),
        instant=lambda at: fmt.instant(at, zone),
        tick=lambda at, timed: fmt.tick(at, zone, timed),
        extension=_("extension requested"),
        due=_("due"),
    )


def action_zone(state: CaseState, action: str) -> str:
    """The time zone of the state that takes `action` (its form's local times are in it)."""
    terms = state.terms
    assert terms is not None
    side = PRESENTED[action].side
    party = terms.requested if side is Side.REQUESTED else terms.requesting
    return zone_of(party, terms.time_zones).key


def territory(page: Page, code: str) -> str:
    return str(Locale.parse(page.lang).territories.get(code, code))


def history_rows(recorded: list[Recorded]) -> list[dict[str, Any]]:
    return [
        {
            "version": r.version,
            "type": r.type,
            "at": r.data.get("at") or r.recorded_at.isoformat(),
            "recorded_at": r.recorded_at,
            "actor": r.metadata.get("actor"),
            "actor_state": r.metadata.get("actor_state"),
            "actor_role": r.metadata.get("actor_role"),
        }
        for r in recorded
    ]


@router.get("/ui/cases/new", response_class=HTMLResponse)
async def open_form(page: SignedIn) -> HTMLResponse:
    writer(page.principal)
    found = choices(page.services.catalogue, page.principal.state or "")
    return page.render(
        "open_case.html",
        choices=found,
        sections=open_sections(found),
        idem=secrets.token_urlsafe(16),
        zone=page.zone,
    )


@router.post("/ui/cases")
async def open_case(page: SignedIn) -> Response:
    form = await posted_form(page)
    caller = writer(page.principal)
    target = "/ui/cases/new"
    try:
        body = open_body(form, page.zone)
    except FormErrors as invalid:
        return back(page, target, form, "open_case", form_names(), errors=invalid.errors)
    answer, error, errors = await call_api(
        lambda: api_endpoint("open_case")(
            body=body,
            request=page.request,
            services=page.services,
            caller=caller,
            idempotency_key=idempotency_key(form),
        )
    )
    if answer is None:
        return back(page, target, form, "open_case", form_names(), error=error, errors=errors)
    case_id = answer["case_id"]
    notice = page._("Case %(case_id)s opened.") % {"case_id": case_id}
    return redirect(page, f"/ui/cases/{case_id}", Flash(notice=notice))


@router.get("/ui/cases/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: str, page: SignedIn) -> HTMLResponse:
    caller = page.principal
    recorded, state = await load_case(page.services, caller, case_id)
    await disclose(
        page.services.pool, caller, case_id, purpose="case view", endpoint="GET /ui/cases/{id}"
    )
    opened = await page.services.vault.reveal(state)
    detail = case_detail(opened, caller)
    terms = state.terms
    assert terms is not None
    zone = page.zone if caller.state in (terms.requesting, terms.requested) else "UTC"
    recorded = visible_events(recorded, caller, terms.requested)  # drafts: the requested's own
    built = build_timeline(decoded(recorded), datetime.now(UTC))
    window = focus(built)
    whole = page.request.query_params.get("timeline") == "whole"
    timeline = render_svg(
        built, timeline_words(page, zone), ident="timeline", window=None if whole else window
    )
    actions = [
        {"name": name, "fields": fields_for(name, opened), "zone": action_zone(state, name)}
        for name in offered_actions(detail["next_actions"], state, caller)
    ]
    return page.render(
        "case.html",
        case=detail,
        assignment=await assignment_view(page, state, detail),
        exchange=await exchange_record(page.services, case_id),
        terms=terms,
        parties=[
            ("requesting", terms.requesting, territory(page, terms.requesting)),
            ("requested", terms.requested, territory(page, terms.requested)),
        ],
        zone=zone,
        zones={s: zone_of(s, terms.time_zones).key for s in (terms.requesting, terms.requested)},
        timeline=timeline,
        zoomable=window is not None,
        whole=whole,
        history=history_rows(recorded),
        actions=actions,
        idem=secrets.token_urlsafe(16),
        documents=document_links(opened),
        earlier=await earlier_cases_of(
            page.services, caller, case_id, endpoint="GET /ui/cases/{id}"
        ),
        attachments=await attachment_rows(page, state),
        evidence_fields=EVIDENCE_FIELDS,  # the evidence form, filled from a scan if need be
        messages=await messages_section(page, case_id, recorded, state),
    )


@router.post("/ui/cases/{case_id}/actions/{action}")
async def case_action(case_id: str, action: str, page: SignedIn) -> Response:
    form = await posted_form(page)
    if action not in ACTIONS:
        raise Problem(404, "Not found", f"no action {action}")
    caller = writer(page.principal)
    _, state = await load_case(page.services, caller, case_id)
    target = f"/ui/cases/{case_id}"
    names = [f.name for f in fields_for(action, state)]
    try:
        body = action_body(action, form, action_zone(state, action))
    except FormErrors as invalid:
        return back(page, target, form, action, names, errors=invalid.errors)
    answer, error, errors = await post_command(
        page, api_endpoint(action), case_id, body, form, caller
    )
    if answer is None:
        return back(page, target, form, action, names, error=error, errors=errors)
    if answer.get("approval") == "awaiting":  # drafted: a supervisor lets it leave
        notice = page._("%(action)s: drafted. The reply leaves once a supervisor approves it.")
        label = page._(labels.label("action", action))
        return redirect(page, target, Flash(notice=notice % {"action": label}))
    if sending := answer.get("sending"):  # a shared case: on its way to the other node
        notice = sent_notice(page, action, sending["recipient"])
        return redirect(page, target, Flash(notice=notice))
    if action in ASSIGNMENT:  # a node's own business: recorded at once, never sent
        officer = getattr(body, "officer", None)
        return redirect(page, target, Flash(notice=assignment_notice(page, action, officer)))
    notice = done_notice(page, action, answer.get("status"))
    return redirect(page, target, Flash(notice=notice))
