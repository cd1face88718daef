"""Signing in and out, the language selector and the static files.

Development (an HS256 secret is configured, as for `readmit token`): pick a user of the
`officers` directory and the server mints a token with `issue_dev_token`. Production: paste the
identity provider's token, verified by the app's `TokenVerifier`. Either way the token goes into
an HttpOnly, SameSite=Strict cookie and is verified again on every request.
"""

from __future__ import annotations

import hmac
import re

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.auth import AuthError, issue_dev_token
from api.problems import Problem
from api.web.i18n import LANGUAGES
from api.web.pages import STATIC_DIR, Page, Public, SignedIn, WebRoute
from api.web.session import (
    FLASH_COOKIE,
    LANG_COOKIE,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    check_csrf,
    clear_cookie,
    set_cookie,
    sign_in_token,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,60}\.(css|js|svg|ico)$")
MEDIA = {"css": "text/css", "js": "text/javascript", "svg": "image/svg+xml", "ico": "image/x-icon"}
_OFFICERS = (
    "SELECT user_id, state, role, display_name FROM officers WHERE active"
    " ORDER BY state, CASE role WHEN 'officer' THEN 0 WHEN 'supervisor' THEN 1"
    " WHEN 'auditor' THEN 2 ELSE 3 END, user_id"
)


def safe_next(target: str | None) -> str:
    """Only this app's pages: never another site (no open redirect)."""
    if target and target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"


def dev_secret(page: Page) -> str | None:
    """The HS256 secret of development sign-in (`adapters.keys.jwt_secret`, as the verifier holds
    it), or None when the installation accepts only its identity provider's tokens."""
    verifier = page.services.verifier
    return verifier.secret if "HS256" in verifier.algorithms else None


async def _sign_in_page(page: Page, status: int = 200, error: str | None = None) -> Response:
    secret = dev_secret(page)
    officers = await page.services.pool.fetch(_OFFICERS) if secret else []
    by_state: dict[str, list[dict[str, str]]] = {}
    for row in officers:
        by_state.setdefault(row["state"], []).append(dict(row))
    token = sign_in_token(page.request)
    response = page.render(
        "sign_in.html",
        status=status,
        dev=secret is not None,
        by_state=by_state,
        sign_in_csrf=token,
        next=safe_next(page.request.query_params.get("next")),
        error=error,
    )
    set_cookie(response, page.request, SIGN_IN_COOKIE, token, max_age=3600)
    return response


@router.get("/ui/sign-in", response_class=HTMLResponse)
async def sign_in_form(page: Public) -> Response:
    return await _sign_in_page(page)


@router.post("/ui/sign-in")
async def sign_in(page: Public) -> Response:
    request = page.request
    form = await request.form()
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    given = str(form.get("csrf", ""))
    if not expected or not hmac.compare_digest(given, expected):
        return await _sign_in_page(page, 403, page._("The sign-in form expired; try again."))
    services = page.services
    user, pasted = str(form.get("user", "")).strip(), str(form.get("token", "")).strip()
    if user:
        secret = dev_secret(page)
        if secret is None:
            raise Problem(403, "Forbidden", "development sign-in is not enabled here")
        row = await services.pool.fetchrow(
            "SELECT user_id, state, role FROM officers WHERE user_id = $1 AND active", user
        )
        if row is None:
            return await _sign_in_page(page, 401, page._("No such active user."))
        token = issue_dev_token(
            secret,
            user=row["user_id"],
            role=row["role"],
            state=row["state"],
            states=(row["state"],) if row["role"] == "auditor" else (),
            ttl_minutes=services.settings.token_ttl_minutes,
        )
    elif pasted:
        token = pasted
    else:
        return await _sign_in_page(page, 422, page._("Choose a user or paste a token."))
    try:
        services.verifier.verify(token)
    except AuthError as error:
        refused = page._("The token was refused:")
        return await _sign_in_page(page, 401, f"{refused} {error}")
    response = RedirectResponse(safe_next(str(form.get("next", ""))), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, token)
    clear_cookie(response, request, SIGN_IN_COOKIE)
    return response


@router.post("/ui/sign-out")
async def sign_out(page: SignedIn) -> Response:
    assert page.session is not None
    check_csrf(page.session.csrf, await page.request.form())
    response = RedirectResponse("/ui/sign-in", status_code=303)
    clear_cookie(response, page.request, SESSION_COOKIE)
    clear_cookie(response, page.request, FLASH_COOKIE)
    return response


@router.get("/ui/language")
async def language(request: Request) -> Response:
    """Remember the interface language (a cookie for a year) and go back to the page."""
    lang = request.query_params.get("lang", "")
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    if lang in LANGUAGES:
        set_cookie(response, request, LANG_COOKIE, lang, max_age=365 * 86400)
    return response


@router.get("/ui")
async def ui_root() -> Response:
    return RedirectResponse("/ui/", status_code=308)


@router.get("/ui/static/{name}")
async def static(name: str, request: Request) -> Response:
    path = STATIC_DIR / name
    if not STATIC_NAME.match(name) or not path.is_file():
        raise Problem(404, "Not found", f"no static file {name}")
    cache = "public, max-age=31536000, immutable" if "v" in request.query_params else "no-cache"
    return FileResponse(
        path, media_type=MEDIA[name.rsplit(".", 1)[1]], headers={"Cache-Control": cache}
    )


@router.get("/")
async def root() -> Response:
    return RedirectResponse("/ui/", status_code=307)
