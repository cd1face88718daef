"""Sign-in through the identity provider: OpenID Connect, authorization code with PKCE.

`begin` makes the provider's authorization URL with a fresh `state`, `nonce` and PKCE verifier
(kept by the browser in a short-lived HttpOnly cookie until it comes back); `finish` checks the
returned `state`, exchanges the code (with the verifier, and this app's client credentials),
verifies the ID token (signature by the provider's keys, `iss`, `aud`, expiry, `nonce`), reads
the userinfo, and maps the claims to a principal (`api.claims_mapping`). The provider's metadata
comes from discovery, fetched once an hour; every request to the provider is awaited (httpx),
never blocking the event loop.

The protocol's messages are Authlib's (`prepare_grant_uri`, `prepare_token_request`, the S256
challenge); the requests are the app's own httpx calls, because Authlib's httpx integration is
deprecated in favour of another HTTP library.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from adapters.settings import ConfigurationError, Settings
from api.auth import Principal
from api.claims_mapping import ClaimsMapping, Unmapped
from api.jwks import FETCH_TIMEOUT_SECONDS, KeyNotFound, KeySet, check_transport

CALLBACK_PATH = "/ui/sign-in/oidc/callback"
DISCOVERY_MAX_AGE_SECONDS = 3600
RETRY_AFTER_FAILURE_SECONDS = 10
ID_TOKEN_ALGORITHMS = ("RS256", "ES256", "PS256")
CLOCK_SKEW_SECONDS = 60


class SignInRefused(Exception):
    """The provider's answer does not sign this browser in; the message is for the user."""


class ProviderUnavailable(Exception):
    """The provider cannot be reached or answers nonsense (a 503 on the sign-in page)."""


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser keeps between leaving for the provider and coming back."""

    state: str
    nonce: str
    verifier: str
    next: str

    def encode(self) -> str:
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode()

    @classmethod
    def decode(cls, raw: str | None) -> PendingSignIn | None:
        if not raw:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode()))
            return cls(**{k: str(data[k]) for k in ("state", "nonce", "verifier", "next")})
        except (ValueError, TypeError, KeyError):
            return None


class Discovery:
    """The provider's metadata (`/.well-known/openid-configuration`), cached for an hour."""

    def __init__(self, issuer: str) -> None:
        # exactly as the provider writes it in `iss` (OpenID Connect Discovery 1.0, section 4.3)
        self.issuer = check_transport(issuer, "READMIT_OIDC_ISSUER")
        self._metadata: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    async def metadata(self) -> dict[str, Any]:
        """The metadata; a failed fetch is not retried for `RETRY_AFTER_FAILURE_SECONDS`, so
        sign-in attempts while the provider is away do not turn into a stream of requests."""
        async with self._lock:
            now = time.monotonic()
            if self._metadata is not None and now - self._fetched_at < DISCOVERY_MAX_AGE_SECONDS:
                return self._metadata
            if self._failed_at is not None and now - self._failed_at < RETRY_AFTER_FAILURE_SECONDS:
                if self._metadata is not None:
                    return self._metadata  # stale but the provider's last word
                raise ProviderUnavailable("discovery failed a moment ago")
            try:
                self._metadata = await self._fetch()
            except ProviderUnavailable:
                self._failed_at = now
                if self._metadata is not None:
                    return self._metadata
                raise
            self._fetched_at, self._failed_at = now, None
            return self._metadata

    async def _fetch(self) -> dict[str, Any]:
        url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
        try:
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS) as http:
                answer = await http.get(url, headers={"Accept": "application/json"})
                answer.raise_for_status()
                found = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ProviderUnavailable(f"discovery failed ({type(error).__name__})") from None
        if not isinstance(found, dict) or found.get("issuer") != self.issuer:
            raise ProviderUnavailable("the discovery document names another issuer")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(found.get(name), str):
                raise ProviderUnavailable(f"the discovery document has no {name}")
            try:
                check_transport(found[name], name)
            except ConfigurationError as error:
                raise ProviderUnavailable(str(error)) from None
        return found

    async def jwks_uri(self) -> str:
        try:
            return str((await self.metadata())["jwks_uri"])
        except ProviderUnavailable as error:
            raise ValueError(str(error)) from None  # KeySet reports it as an unfetchable set


class OidcSignIn:
    """The sign-in of one configured provider and client."""

    def __init__(
        self, settings: Settings, *, discovery: Discovery, keys: KeySet, mapping: ClaimsMapping
    ) -> None:
        missing = [
            name
            for name, value in (
                ("READMIT_OIDC_CLIENT_ID", settings.oidc_client_id),
                ("READMIT_OIDC_REDIRECT_URL", settings.oidc_redirect_url),
                ("READMIT_OIDC_ROLE_MAP", settings.oidc_role_map),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(f"sign-in with READMIT_OIDC_ISSUER needs {', '.join(missing)}")
        assert settings.oidc_client_id and settings.oidc_redirect_url
        self.client_id = settings.oidc_client_id
        secret = settings.oidc_client_secret
        self.client_secret = secret.get_secret_value() if secret else None
        self.redirect_url = check_transport(settings.oidc_redirect_url, "READMIT_OIDC_REDIRECT_URL")
        if not self.redirect_url.endswith(CALLBACK_PATH):
            raise ConfigurationError(f"READMIT_OIDC_REDIRECT_URL must end in {CALLBACK_PATH}")
        self.scopes = ("openid", *(s for s in settings.oidc_scopes if s != "openid"))
        self.session_seconds = settings.session_ttl_minutes * 60
        self.discovery, self.keys, self.mapping = discovery, keys, mapping

    def _client_auth(self) -> httpx.Auth:
        """client_secret_basic, id and secret form-encoded first (RFC 6749 section 2.3.1); a
        public client (no secret) names itself in the body instead."""
        if self.client_secret is None:
            return httpx.Auth()
        return httpx.BasicAuth(quote_plus(self.client_id), quote_plus(self.client_secret))

    async def begin(self, next_page: str) -> tuple[str, PendingSignIn]:
        """The provider's authorization URL, and what the browser keeps until it comes back."""
        metadata = await self.discovery.metadata()
        pending = PendingSignIn(
            state=generate_token(32),
            nonce=generate_token(32),
            verifier=generate_token(64),
            next=next_page,
        )
        url = prepare_grant_uri(
            metadata["authorization_endpoint"],
            self.client_id,
            "code",
            redirect_uri=self.redirect_url,
            scope=" ".join(self.scopes),
            state=pending.state,
            nonce=pending.nonce,
            code_challenge=create_s256_code_challenge(pending.verifier),
            code_challenge_method="S256",
        )
        return str(url), pending

    async def finish(self, answer: Mapping[str, str], pending: PendingSignIn | None) -> Principal:
        """The principal of the provider's answer (the callback's query), or `SignInRefused`."""
        if pending is None:
            raise SignInRefused("the sign-in took too long or was started in another browser")
        if not hmac.compare_digest(answer.get("state", ""), pending.state):
            raise SignInRefused("the answer does not belong to this sign-in (state)")
        if "iss" in answer and answer["iss"] != self.discovery.issuer:
            raise SignInRefused("the answer comes from another issuer (iss)")  # RFC 9207
        if "error" in answer:
            raise SignInRefused(f"the identity provider refused: {answer['error'][:100]}")
        code = answer.get("code")
        if not code:
            raise SignInRefused("the identity provider sent no authorization code")
        metadata = await self.discovery.metadata()
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS) as http:
            token = await self._token(http, metadata["token_endpoint"], code, pending.verifier)
            claims = await self._id_token_claims(str(token.get("id_token", "")), pending.nonce)
            access = str(token.get("access_token", ""))
            userinfo = await self._userinfo(http, metadata, access, claims["sub"])
        # the signed ID token's claims win over the userinfo's where both have one
        return self._principal({**userinfo, **claims})

    async def _token(
        self, http: httpx.AsyncClient, endpoint: str, code: str, verifier: str
    ) -> dict[str, Any]:
        body = prepare_token_request(
            "authorization_code",
            redirect_uri=self.redirect_url,
            code=code,
            code_verifier=verifier,
            client_id=self.client_id if self.client_secret is None else None,
        )
        try:
            answer = await http.post(
                endpoint,
                content=body,
                auth=self._client_auth(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
            )
            found = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            failed = f"token request failed ({type(error).__name__})"
            raise ProviderUnavailable(failed) from None
        if not isinstance(found, dict):
            raise ProviderUnavailable(f"token request failed (HTTP {answer.status_code})")
        if "error" in found or answer.status_code != 200:
            refusal = str(found.get("error", f"HTTP {answer.status_code}"))[:100]
            raise SignInRefused(f"the code was refused: {refusal}")
        return found

    async def _id_token_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        if not id_token:
            raise SignInRefused("the identity provider sent no ID token")
        try:
            header = jwt.get_unverified_header(id_token)
            algorithm = header.get("alg")
            if algorithm not in ID_TOKEN_ALGORITHMS:
                raise SignInRefused(f"ID token algorithm {algorithm!r} is not accepted")
            kid = header.get("kid")
            key = await self.keys.key(kid if isinstance(kid, str) else None)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=[algorithm],
                audience=self.client_id,
                issuer=self.discovery.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "sub", "iss", "aud", "nonce"]},
            )
        except KeyNotFound as error:
            raise SignInRefused(f"the ID token does not verify: {error}") from None
        except jwt.PyJWTError as error:
            raise SignInRefused(f"the ID token does not verify: {error}") from None
        if not hmac.compare_digest(str(claims["nonce"]), nonce):
            raise SignInRefused("the ID token was not issued for this sign-in (nonce)")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise SignInRefused("the ID token was issued to another client (azp)")
        return claims

    async def _userinfo(
        self, http: httpx.AsyncClient, metadata: dict[str, Any], access: str, subject: str
    ) -> dict[str, Any]:
        url = metadata.get("userinfo_endpoint")
        if not isinstance(url, str) or not access:
            return {}
        try:
            check_transport(url, "userinfo_endpoint")
            answer = await http.get(
                url, headers={"Authorization": f"Bearer {access}", "Accept": "application/json"}
            )
            answer.raise_for_status()
            found = answer.json()
        except (httpx.HTTPError, ValueError, ConfigurationError) as error:
            raise ProviderUnavailable(f"userinfo failed ({type(error).__name__})") from None
        if not isinstance(found, dict) or found.get("sub") != subject:
            raise SignInRefused("the userinfo names another user than the ID token")
        return found

    def _principal(self, claims: dict[str, Any]) -> Principal:
        try:
            return self.mapping.principal(claims, expires=int(time.time()) + self.session_seconds)
        except Unmapped as error:
            raise SignInRefused(str(error)) from None


def oidc_from(settings: Settings) -> tuple[OidcSignIn | None, KeySet | None]:
    """The provider's sign-in (None when READMIT_OIDC_ISSUER is unset) and its key set."""
    if not settings.oidc_issuer:
        return None, None
    discovery = Discovery(settings.oidc_issuer)
    keys = KeySet(url=discovery.jwks_uri, min_refresh_seconds=settings.jwks_min_refresh_seconds)
    mapping = ClaimsMapping.from_settings(settings)
    return OidcSignIn(settings, discovery=discovery, keys=keys, mapping=mapping), keys
