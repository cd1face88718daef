"""Signing in and out, the language selector and the static files.

Production (`READMIT_ENV=production`) signs in only through the identity provider (OpenID
Connect, `api.oidc`): the page offers nothing else, and a form naming a user of the directory or
carrying a token gets no session. Development also lists the users of the `officers` directory
to pick from, and takes a pasted token verified by the app's `TokenVerifier`.

Every way in ends the same: a row in `web_sessions` and its random token in an HttpOnly,
SameSite=Strict cookie; signing out revokes the row.

Pasted tokens are refused in production on purpose: a session there is established only by the
provider's interactive sign-in (its login page, its second factor), never by a bearer token
copied out of another tool. Machine clients send their tokens as `Authorization: Bearer`.
"""

from __future__ import annotations

import hmac
import re

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from adapters.db.web_sessions import Via
from api.auth import AuthError, Principal
from api.oidc import PendingSignIn, ProviderUnavailable, SignInRefused
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
    end_session,
    set_cookie,
    sign_in_token,
    start_session,
)

log = structlog.get_logger(__name__)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,60}\.(css|js|svg|ico)$")
MEDIA = {"css": "text/css", "js": "text/javascript", "svg": "image/svg+xml", "ico": "image/x-icon"}
_OFFICERS = (
    "SELECT user_id, state, role, display_name FROM officers WHERE active"
    " ORDER BY state, CASE role WHEN 'officer' THEN 0 WHEN 'supervisor' THEN 1"
    " WHEN 'auditor' THEN 2 ELSE 3 END, user_id"
)
# The browser keeps the OpenID sign-in's state, nonce and PKCE verifier here until it comes back
# from the provider. SameSite=Lax: the provider's redirect back is a cross-site navigation.
OIDC_COOKIE = "readmit_oidc"
OIDC_PATH = "/ui/sign-in/oidc"
OIDC_COOKIE_SECONDS = 600


def safe_next(target: str | None) -> str:
    """Only this app's pages: never another site (no open redirect)."""
    if target and target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"


def demo_sign_in(page: Page) -> bool:
    """Whether the page may offer the directory's users and pasted tokens (development only)."""
    return not page.services.settings.production


async def _sign_in_page(page: Page, status: int = 200, error: str | None = None) -> Response:
    dev = demo_sign_in(page)
    officers = await page.services.pool.fetch(_OFFICERS) if dev else []
    by_state: dict[str, list[dict[str, str]]] = {}
    for row in officers:
        by_state.setdefault(row["state"], []).append(dict(row))
    token = sign_in_token(page.request)
    response = page.render(
        "sign_in.html",
        status=status,
        dev=dev,
        provider=page.services.oidc is not None,
        by_state=by_state,
        sign_in_csrf=token,
        next=safe_next(page.request.query_params.get("next")),
        error=error,
    )
    set_cookie(response, page.request, SIGN_IN_COOKIE, token, max_age=3600)
    return response


async def _signed_in(page: Page, principal: Principal, via: Via, target: str) -> Response:
    """The new session's cookie, and on to `target`."""
    token = await start_session(page.services, principal, via)
    log.info("sign_in", via=via, role=principal.role)
    response = RedirectResponse(safe_next(target), status_code=303)
    set_cookie(response, page.request, SESSION_COOKIE, token)
    clear_cookie(response, page.request, SIGN_IN_COOKIE)
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
    if not demo_sign_in(page):
        log.warning("sign_in.refused", via="form", reason="production")
        raise Problem(403, "Forbidden", page._("Sign in through the identity provider."))
    services = page.services
    user, pasted = str(form.get("user", "")).strip(), str(form.get("token", "")).strip()
    target = str(form.get("next", ""))
    if user:
        row = await services.pool.fetchrow(
            "SELECT user_id, state, role FROM officers WHERE user_id = $1 AND active", user
        )
        if row is None:
            return await _sign_in_page(page, 401, page._("No such active user."))
        principal = Principal(
            user_id=row["user_id"],
            role=row["role"],
            state=row["state"],
            states=frozenset({row["state"]}),
        )
        return await _signed_in(page, principal, "directory", target)
    if not pasted:
        return await _sign_in_page(page, 422, page._("Choose a user or paste a token."))
    try:
        principal = await services.verifier.verify(pasted)
    except AuthError as error:
        refused = page._("The token was refused:")
        return await _sign_in_page(page, 401, f"{refused} {error}")
    return await _signed_in(page, principal, "token", target)


@router.get(OIDC_PATH)
async def sign_in_with_provider(page: Public) -> Response:
    """Off to the identity provider, with a fresh state, nonce and PKCE challenge."""
    oidc = page.services.oidc
    if oidc is None:
        raise Problem(404, "Not found", "no identity provider is configured")
    try:
        url, pending = await oidc.begin(safe_next(page.request.query_params.get("next")))
    except ProviderUnavailable as error:
        log.warning("sign_in.provider_unavailable", reason=str(error))
        return await _sign_in_page(
            page, 503, page._("The identity provider cannot be reached; try again shortly.")
        )
    response = RedirectResponse(url, status_code=303)
    set_cookie(
        response,
        page.request,
        OIDC_COOKIE,
        pending.encode(),
        max_age=OIDC_COOKIE_SECONDS,
        path=OIDC_PATH,
        samesite="lax",
    )
    return response


@router.get(f"{OIDC_PATH}/callback")
async def provider_callback(page: Public) -> Response:
    """The provider's answer: the code is exchanged and the ID token checked (`api.oidc`)."""
    oidc = page.services.oidc
    if oidc is None:
        raise Problem(404, "Not found", "no identity provider is configured")
    request = page.request
    pending = PendingSignIn.decode(request.cookies.get(OIDC_COOKIE))
    try:
        principal = await oidc.finish(dict(request.query_params), pending)
    except SignInRefused as error:
        log.warning("sign_in.refused", via="oidc", reason=str(error))
        refused = page._("The identity provider's sign-in was not accepted:")
        response = await _sign_in_page(page, 403, f"{refused} {error}")
    except ProviderUnavailable as error:
        log.warning("sign_in.provider_unavailable", reason=str(error))
        response = await _sign_in_page(
            page, 503, page._("The identity provider cannot be reached; try again shortly.")
        )
    else:
        token = await start_session(page.services, principal, "oidc")
        log.info("sign_in", via="oidc", role=principal.role)
        # A page, not a redirect: the way here began on the provider's site, and a browser does
        # not send a SameSite=Strict cookie on a redirect from another site. The page's own
        # navigation is same-site, so the session cookie goes along.
        target = safe_next(pending.next if pending else None)
        response = page.render("signed_in.html", target=target)
        set_cookie(response, request, SESSION_COOKIE, token)
        clear_cookie(response, request, SIGN_IN_COOKIE)
    clear_cookie(response, request, OIDC_COOKIE, path=OIDC_PATH, samesite="lax")
    return response


@router.post("/ui/sign-out")
async def sign_out(page: SignedIn) -> Response:
    assert page.session is not None
    check_csrf(page.session.csrf, await page.request.form())
    await end_session(page.services, page.session)
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
