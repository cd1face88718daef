"""What every page shares: the Jinja2 environment per language, the page context (session,
language, flash), rendering with safe headers, and a route class that turns the API's errors
into HTML pages (or a redirect to sign-in) instead of problem+json."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import structlog
from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from temporalio.service import RPCError, RPCStatusCode

from adapters.i18n import notice_subject
from adapters.temporal.cases import CaseNotFound
from api.auth import Principal
from api.problems import RETRY_AFTER_SECONDS, UNAVAILABLE_ERRORS, Problem
from api.routes.inbox import unread_count
from api.services import Services
from api.web import labels
from api.web.i18n import LANGUAGES, Formatter, negotiate, translations
from api.web.session import (
    FLASH_COOKIE,
    LANG_COOKIE,
    CsrfFailed,
    Flash,
    SignInRequired,
    WebSession,
    clear_cookie,
    current_session,
    decode_flash,
    known_session,
    optional_session,
    services_of,
)
from domain.calendars import TIME_ZONES

log = structlog.get_logger(__name__)

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=32)
def static_url(name: str) -> str:
    """The file's URL with a content hash, so browsers may cache it for good."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"/ui/static/{name}?v={digest}"


@lru_cache(maxsize=len(LANGUAGES))
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    fmt = Formatter(lang)

    def word(table: str, code: str | None) -> str:
        return fmt.gettext(labels.label(table, code)) if code else ""

    env.globals.update(
        fmt=fmt,
        lang=lang,
        languages=LANGUAGES,
        static=static_url,
        word=word,
        # a notice's stored English subject in the page's language
        notice_subject=lambda subject, case_id: notice_subject(subject, case_id, lang),
        zone_of=lambda state: TIME_ZONES.get(state or "", "UTC"),
    )
    return env


@dataclass
class Page:
    """One request of a page: who asks, in which language, with which one-shot message."""

    request: Request
    services: Services
    session: WebSession | None
    lang: str
    flash: Flash | None = None
    unread: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def principal(self) -> Principal:
        assert self.session is not None
        return self.session.principal

    @property
    def fmt(self) -> Formatter:
        found: Formatter = environment(self.lang).globals["fmt"]  # type: ignore[assignment]
        return found

    def _(self, message: str) -> str:
        return self.fmt.gettext(message)

    @property
    def zone(self) -> str:
        """The caller's own state's time zone (UTC for multi-state auditors)."""
        state = self.session.principal.state if self.session else None
        return TIME_ZONES.get(state or "", "UTC")

    def render(self, template: str | Template, status: int = 200, **values: Any) -> HTMLResponse:
        if isinstance(template, str):
            template = environment(self.lang).get_template(template)
        html = template.render(
            page=self,
            caller=self.session.principal if self.session else None,
            csrf=self.session.csrf if self.session else "",
            flash=self.flash or Flash(),
            now=datetime.now(UTC),
            path=self.request.url.path,
            **values,
        )
        response = HTMLResponse(html, status_code=status, headers={"Content-Language": self.lang})
        if self.flash is not None:
            clear_cookie(response, self.request, FLASH_COOKIE)
        return response


def language_of(request: Request) -> str:
    return negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


async def signed_in_page(request: Request) -> Page:
    """A page for a signed-in caller (otherwise: to the sign-in page)."""
    session = await current_session(request)
    services = services_of(request)
    return Page(
        request=request,
        services=services,
        session=session,
        lang=language_of(request),
        flash=decode_flash(request, session),
        unread=await unread_count(services.pool, session.principal),
    )


async def public_page(request: Request) -> Page:
    session = await optional_session(request)
    return Page(
        request=request,
        services=services_of(request),
        session=session,
        lang=language_of(request),
        flash=decode_flash(request, session),
    )


SignedIn = Annotated[Page, Depends(signed_in_page)]
Public = Annotated[Page, Depends(public_page)]


def error_page(request: Request, status: int, title: str, detail: str | None) -> HTMLResponse:
    lang = language_of(request)
    page = Page(
        request=request,
        services=services_of(request),
        session=known_session(request),
        lang=lang,
    )
    return page.render("error.html", status=status, title=title, detail=detail)


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or not target.startswith("/ui"):
        target = "/ui/"
    return RedirectResponse(f"/ui/sign-in?next={quote(target, safe='')}", status_code=303)


# Backing services down: the page says so (503) instead of the API's problem document.


def html_error(request: Request, error: Exception) -> Response:
    """The HTML answer to an error a page raised (the API answers problem+json instead)."""
    _ = Formatter(language_of(request)).gettext
    match error:
        case SignInRequired():
            return sign_in_redirect(request)
        case CsrfFailed():
            title, detail = (
                _("This form has expired"),
                _("Reload the page and send the form again."),
            )
            return error_page(request, 403, title, detail)
        case Problem():
            return error_page(request, error.status, _(error.title), error.detail)
        case CaseNotFound():
            return error_page(request, 404, _("Not found"), str(error))
        case RequestValidationError():
            detail = "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                for e in error.errors()
            )
            return error_page(request, 422, _("Invalid input"), detail)
        case RPCError() if error.status in (
            RPCStatusCode.UNAVAILABLE,
            RPCStatusCode.DEADLINE_EXCEEDED,
        ):
            return _unavailable(request, error)
        case _ if isinstance(error, UNAVAILABLE_ERRORS):
            return _unavailable(request, error)
    log.exception("page failed", error_type=type(error).__name__, path=request.url.path)
    return error_page(request, 500, _("Internal error"), _("An unexpected error was logged."))


def _unavailable(request: Request, error: Exception) -> Response:
    log.warning("page: dependency unavailable", error_type=type(error).__name__)
    _ = Formatter(language_of(request)).gettext
    response = Page(request, services_of(request), None, language_of(request)).render(
        "error.html",
        status=503,
        title=_("Service unavailable"),
        detail=_("PostgreSQL or Temporal cannot be reached; try again in a few seconds."),
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class WebRoute(APIRoute):
    """Errors become HTML; every answer gets the security headers and its server time."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            started = time.perf_counter()
            try:
                response = await original(request)
            except Exception as error:  # every page error gets an HTML answer
                response = html_error(request, error)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            response.headers.setdefault("Cache-Control", "no-store")
            elapsed = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
            return response

        return handler
