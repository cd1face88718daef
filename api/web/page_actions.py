"""How a page's form becomes an API call and a redirect: the helpers every POST route of the
pages shares (the case page, its messages, evidence, escalations, reply approval and files).

A form is read once its CSRF token matches the session's (`posted_form`); it never does the
work itself: it calls the API's own endpoint function (`api_endpoint`,
`post_command`), so the page and the API cannot disagree about who may do what, and
`call_api` turns whatever way the endpoint says no into the message the form shows. The answer
is always POST/redirect/GET with a one-shot flash (`redirect`, `back`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.datastructures import FormData

from adapters.db.eventstore import ConcurrencyError
from adapters.temporal.cases import CaseNotFound, CommandRefused
from api.auth import Principal
from api.deps import writer
from api.problems import Problem
from api.routes import cases as api_cases
from api.web import labels
from api.web.forms import raw_values
from api.web.pages import Page
from api.web.session import Flash, WebSession, check_csrf, flash_to

Answer = tuple[dict[str, Any] | None, str | None, dict[str, list[str]] | None]


def api_endpoint(name: str) -> Callable[..., Awaitable[Any]]:
    """The API's own endpoint function for a command (`accept`, `open_case`...)."""
    for route in api_cases.router.routes:
        if isinstance(route, APIRoute) and route.name == name and "POST" in (route.methods or ()):
            endpoint: Callable[..., Awaitable[Any]] = route.endpoint
            return endpoint
    raise LookupError(f"the API has no command endpoint {name!r}")


def session_of(page: Page) -> WebSession:
    """The signed-in page's session (a `SignedIn` page always has one)."""
    assert page.session is not None
    return page.session


async def posted_form(page: Page, max_files: int = 1000) -> FormData:
    """The posted form, once its CSRF token matches the session's (403 otherwise)."""
    form = await page.request.form(max_files=max_files)
    check_csrf(session_of(page).csrf, form)
    return form


def idempotency_key(form: FormData) -> str | None:
    """The form's one-time token: a double submission is answered once (`Idempotency-Key`)."""
    key = str(form.get("idem", "")).strip()
    return f"web-{key}" if 8 <= len(key) <= 100 else None


async def call_api(call: Callable[[], Awaitable[Any]]) -> Answer:
    """(answer, error, field errors) of an API endpoint, whatever way it says no."""
    try:
        response = await call()
    except Problem as problem:
        errors = {
            e["field"]: [e["message"]] for e in problem.extra.get("errors", []) if "field" in e
        }
        return None, problem.detail or problem.title, errors or None
    except CommandRefused as refused:
        return None, refused.message, None
    except CaseNotFound as missing:
        return None, f"no case {missing}", None
    except ConcurrencyError as conflict:
        return None, str(conflict), None
    body = json.loads(bytes(response.body)) if response.body else {}
    if response.status_code >= 400:
        return None, str(body.get("detail") or body.get("title") or response.status_code), None
    return body, None, None


async def post_command(
    page: Page,
    endpoint: Callable[..., Awaitable[Any]],
    case_id: str,
    body: BaseModel,
    form: FormData,
    caller: Principal | None = None,
) -> Answer:
    """`call_api` of a case command's endpoint with the form's body and one-time token.

    Without `caller` the page's writer is taken inside the call, so a caller who may not write
    gets the form's error rather than an error page."""
    return await call_api(
        lambda: endpoint(
            case_id=case_id,
            body=body,
            request=page.request,
            services=page.services,
            caller=caller if caller is not None else writer(page.principal),
            idempotency_key=idempotency_key(form),
        )
    )


def redirect(page: Page, target: str, flash: Flash) -> Response:
    """303 to `target`, with `flash` shown once by the page it lands on."""
    response = RedirectResponse(target, status_code=303)
    flash_to(response, page.request, session_of(page), flash)
    return response


def back(
    page: Page,
    target: str,
    form: FormData,
    name: str,
    fields: list[str],
    *,
    error: str | None = None,
    errors: dict[str, list[str]] | None = None,
) -> Response:
    """POST/redirect/GET with the messages and the values typed, shown once by the form."""
    message = error or page._("Please correct the fields marked below.")
    flash = Flash(error=message, form=name, errors=errors or {}, values=raw_values(form, fields))
    anchor = "" if name == "open_case" else f"#action-{name}"
    return redirect(page, target + anchor, flash)


def sent_notice(page: Page, action: str, recipient: str) -> str:
    """What the page says when a shared case's command is on its way to the other node."""
    return page._(
        "%(action)s: sent to %(state)s. It takes effect on both sides once %(state)s "
        "acknowledges receipt."
    ) % {"action": page._(labels.label("action", action)), "state": recipient}


def done_notice(page: Page, action: str, status: str | None) -> str:
    """What the page says when a command is recorded, with the case's status it leaves."""
    return page._("%(action)s: done. The case is now “%(status)s”.") % {
        "action": page._(labels.label("action", action)),
        "status": page._(labels.label("status", status)),
    }
