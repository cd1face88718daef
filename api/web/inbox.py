"""The inbox page: the caller's notifications (reminders, escalations, what the other side did),
newest first, each marked read with one button; served by the API's inbox functions."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.problems import Problem
from api.routes import inbox as api_inbox
from api.web.pages import SignedIn, WebRoute
from api.web.session import Flash, check_csrf, flash_to

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE_SIZE = 50


@router.get("/ui/inbox", response_class=HTMLResponse)
async def inbox(page: SignedIn) -> HTMLResponse:
    params = page.request.query_params
    unread = params.get("unread") in ("1", "on", "true")
    cursor = params.get("cursor") or None
    if cursor is not None and not cursor.isdigit():
        cursor = None
    found = await api_inbox.inbox(page.services, page.principal, unread, PAGE_SIZE, cursor)
    return page.render("inbox.html", items=found.items, following=found.next_cursor, unread=unread)


@router.post("/ui/inbox/{notification_id}/read")
async def mark_read(notification_id: int, page: SignedIn) -> Response:
    assert page.session is not None
    form = await page.request.form()
    check_csrf(page.session.csrf, form)
    if not 1 <= notification_id <= api_inbox.MAX_ID:
        raise Problem(404, "Not found", f"no notification {notification_id}")
    item = await api_inbox.mark_read(notification_id, page.services, page.principal)
    back = "/ui/inbox" + ("?unread=1" if form.get("unread") else "")
    response = RedirectResponse(f"{back}#n{item.id}", status_code=303)
    flash_to(response, page.request, page.session, Flash(notice=page._("Marked as read.")))
    return response
