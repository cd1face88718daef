"""Web sessions: a random token in an HttpOnly, SameSite=Strict cookie, looked up on every
request in the `web_sessions` table (which holds only its hash, who it signed in and until
when), so that signing out ends the session for good; a per-session CSRF token; and a one-shot
signed "flash" cookie that carries a form's outcome across POST/redirect/GET.

The CSRF token and the flash signature are derived from the session token, so any API process
can serve any request with nothing but the table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from fastapi import Request, Response

from adapters.db.web_sessions import Via, find_session, open_session, purge_sessions, revoke_session
from api.auth import AuthError, Claims, Principal, principal_from_claims
from api.services import Services

SESSION_COOKIE = "readmit_session"
LANG_COOKIE = "readmit_lang"
FLASH_COOKIE = "readmit_flash"
SIGN_IN_COOKIE = "readmit_sign_in"  # CSRF token of the sign-in form (before any session)
KEEP_ENDED_SESSIONS = timedelta(days=30)  # revoked and expired rows, then forgotten
COOKIE_PATH = "/"
FLASH_MAX_BYTES = 3000
FIELD_MAX_CHARS = 600


class SignInRequired(Exception):
    """No session, or its token no longer verifies: the browser goes to the sign-in page."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class CsrfFailed(Exception):
    """A form posted without this session's CSRF token (or an expired page)."""


@dataclass(frozen=True)
class WebSession:
    token: str
    principal: Principal

    @property
    def csrf(self) -> str:
        return derive(self.token, "csrf")[:32]


def derive(token: str, purpose: str) -> str:
    """A value only the holder of `token` can compute (hash of the token and a purpose)."""
    return hashlib.sha256(f"readmit-web:{purpose}:{token}".encode()).hexdigest()


def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def current_session(request: Request) -> WebSession:
    """The caller's live session (its row unrevoked and unexpired), else `SignInRequired`."""
    cached: WebSession | None = getattr(request.state, "web_session", None)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired()
    row = await find_session(services_of(request).pool, token)
    if row is None:
        raise SignInRequired("the session ended (signed out or expired)")
    try:
        caller = principal_from_claims(
            Claims(
                sub=row.user_id,
                role=row.role,  # the table's CHECK names the roles
                state=row.state,
                states=row.states,
                exp=int(row.expires_at.timestamp()),
            )
        )
    except (AuthError, ValueError) as error:
        raise SignInRequired(str(error)) from error
    session = WebSession(token=token, principal=caller)
    request.state.principal = caller
    request.state.web_session = session
    return session


async def optional_session(request: Request) -> WebSession | None:
    try:
        return await current_session(request)
    except SignInRequired:
        return None


def known_session(request: Request) -> WebSession | None:
    """The session this request already proved (no lookup: for error pages)."""
    found: WebSession | None = getattr(request.state, "web_session", None)
    return found


async def start_session(services: Services, principal: Principal, via: Via) -> str:
    """A new session for `principal`: its row, and the token the browser's cookie will hold."""
    token = secrets.token_urlsafe(32)
    await open_session(
        services.pool,
        token,
        user_id=principal.user_id,
        role=principal.role,
        state=principal.state,
        states=tuple(sorted(principal.states)) if principal.role == "auditor" else (),
        via=via,
        lifetime=timedelta(minutes=services.settings.session_ttl_minutes),
    )
    await purge_sessions(services.pool, older_than=KEEP_ENDED_SESSIONS)
    return token


async def end_session(services: Services, session: WebSession) -> None:
    """Sign-out: the session's row is revoked, so its cookie, wherever copied, opens nothing."""
    await revoke_session(services.pool, session.token)


def check_csrf(expected: str, form: Any) -> None:
    given = form.get("csrf") if form is not None else None
    if not isinstance(given, str) or not hmac.compare_digest(given, expected):
        raise CsrfFailed()


def secure(request: Request) -> bool:
    """Whether cookies get the `Secure` flag: always in production; in development when the
    request came over https, as seen directly or as forwarded by a trusted proxy
    (`READMIT_TRUSTED_PROXIES`, applied by `api.hardening` before this is asked)."""
    settings = getattr(request.app.state, "settings", None)
    return bool(getattr(settings, "production", False)) or request.url.scheme == "https"


def set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    max_age: int | None = None,
    *,
    path: str = COOKIE_PATH,
    samesite: Literal["strict", "lax"] = "strict",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite=samesite,
        secure=secure(request),
    )


def clear_cookie(
    response: Response,
    request: Request,
    name: str,
    *,
    path: str = COOKIE_PATH,
    samesite: Literal["strict", "lax"] = "strict",
) -> None:
    response.delete_cookie(
        name, path=path, httponly=True, samesite=samesite, secure=secure(request)
    )


def sign_in_token(request: Request) -> str:
    """The sign-in form's CSRF token: the cookie's, or a new one the response must set."""
    return request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(24)


# --- flash: one form outcome, shown once after the redirect ---------------------------------


@dataclass
class Flash:
    notice: str | None = None
    error: str | None = None
    form: str | None = None
    errors: dict[str, list[str]] | None = None
    values: dict[str, str] | None = None

    def field_errors(self, form: str) -> dict[str, list[str]]:
        return (self.errors or {}) if self.form == form else {}

    def value(self, form: str, field: str, default: str = "") -> str:
        if self.form != form or not self.values:
            return default
        return self.values.get(field, default)


def _trimmed(flash: Flash) -> dict[str, Any]:
    data = {k: v for k, v in flash.__dict__.items() if v}
    if data.get("values"):
        data["values"] = {k: str(v)[:FIELD_MAX_CHARS] for k, v in data["values"].items()}
    if len(json.dumps(data, ensure_ascii=False).encode()) > FLASH_MAX_BYTES:
        data.pop("values", None)  # the messages matter more than refilling the fields
    return data


def encode_flash(flash: Flash, session: WebSession) -> str:
    payload = base64.urlsafe_b64encode(
        json.dumps(_trimmed(flash), ensure_ascii=False).encode()
    ).decode()
    signature = hmac.new(derive(session.token, "flash").encode(), payload.encode(), "sha256")
    return f"{payload}.{signature.hexdigest()[:32]}"


def decode_flash(request: Request, session: WebSession | None) -> Flash | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or session is None or "." not in raw:
        return None
    payload, signature = raw.rsplit(".", 1)
    expected = hmac.new(derive(session.token, "flash").encode(), payload.encode(), "sha256")
    if not hmac.compare_digest(signature, expected.hexdigest()[:32]):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        return Flash(**{k: v for k, v in data.items() if k in Flash.__dataclass_fields__})
    except (ValueError, TypeError):
        return None


def flash_to(response: Response, request: Request, session: WebSession, flash: Flash) -> None:
    set_cookie(response, request, FLASH_COOKIE, encode_flash(flash, session), max_age=120)
