"""Who is calling: bearer tokens (JWT) checked against a shared secret (service tokens) or the
identity provider's keys (JWKS), turned into a `Principal` with one role and its state(s).

Claims: `sub` (user id), `role` (officer | supervisor | auditor | admin), `state` (the ISO code
of the officer's, supervisor's or admin's state) and, for auditors, `states` (a list of codes, or
`["*"]` for every state). Tokens without an expiry are refused. When a claims mapping is
configured, the provider's tokens (RS256/ES256) are always mapped from the provider's own claims
(roles, groups) by `map_claims` (`api.claims_mapping`): their `role`, `state` and `states` claims
are then never read. `scope` (OAuth 2.0, a space-separated list) grants what no role does:
`codec:decode` lets an administrator decode Temporal payloads for the web UI
(`api/routes/codec.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.settings import ConfigurationError
from api.jwks import KeyNotFound, KeySet

Role = Literal["officer", "supervisor", "auditor", "admin"]
ALL_STATES = "*"
# The scope of the installation's operators who read Temporal histories in the web UI.
CODEC_SCOPE = "codec:decode"


class AuthError(Exception):
    """The request carries no usable credentials (401)."""


class Claims(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sub: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@-]+$")
    role: Role
    state: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    states: tuple[str, ...] = ()
    scope: str = Field(default="", max_length=2000)
    exp: int


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    role: Role
    state: str | None
    states: frozenset[str]
    scopes: frozenset[str] = frozenset()

    @property
    def can_write(self) -> bool:
        """Officers and supervisors act on cases; auditors and admins never do."""
        return self.role in ("officer", "supervisor")

    def sees_state(self, state: str) -> bool:
        return ALL_STATES in self.states or state in self.states

    def sees_case(self, requesting: str, requested: str, *, disclosed: bool) -> bool:
        """Only the parties of a case (and auditors scoped to one of them) see it: the
        requesting state from its opening, the requested state once the case is `disclosed` to
        it (submitted; a draft withdrawn before submission never is). Its supervisors and
        auditors see no more than its officers."""
        if self.role == "admin":
            return False
        return self.sees_state(requesting) or (disclosed and self.sees_state(requested))


def principal_from_claims(claims: Claims) -> Principal:
    if claims.role == "auditor":
        states = frozenset(claims.states or ((claims.state,) if claims.state else ()))
        if not states:
            raise AuthError("an auditor's token names the states it may audit ('states')")
        bad = [s for s in states if s != ALL_STATES and not (len(s) == 2 and s.isupper())]
        if bad:
            raise AuthError(f"invalid states in token: {', '.join(sorted(bad))}")
    else:
        if claims.state is None:
            raise AuthError(f"a {claims.role}'s token names its state ('state')")
        states = frozenset({claims.state})
    return Principal(
        user_id=claims.sub,
        role=claims.role,
        state=claims.state,
        states=states,
        scopes=frozenset(claims.scope.split()),
    )


class TokenVerifier:
    """Verifies bearer tokens: HS256 with the shared secret (`readmit token`, service tokens) and
    RS256/ES256 with the identity provider's key set, which must then say who issued the token
    and for whom (`iss` and `aud` are required, or the app does not start).

    Verification is async because the provider's keys may have to be fetched: never inside the
    event loop's thread, at most once per refresh interval (`api.jwks.KeySet`)."""

    def __init__(
        self,
        *,
        algorithms: tuple[str, ...],
        secret: str | None = None,
        keys: KeySet | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        map_claims: Callable[[dict[str, Any]], Principal] | None = None,
    ) -> None:
        asymmetric = [a for a in algorithms if a != "HS256"]
        if asymmetric:
            missing = [
                name
                for name, value in (
                    ("READMIT_JWT_ISSUER", issuer),
                    ("READMIT_JWT_AUDIENCE", audience),
                )
                if not value
            ]
            if keys is None:
                missing.append("READMIT_JWKS_URL (or READMIT_JWKS_FILE, or READMIT_OIDC_ISSUER)")
            if missing:
                raise ConfigurationError(f"{'/'.join(asymmetric)} tokens need {', '.join(missing)}")
        self.algorithms = algorithms
        self.secret = secret
        self.keys = keys
        self.issuer, self.audience = issuer, audience
        self.map_claims = map_claims

    async def _key(self, header: dict[str, Any]) -> Any:
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise AuthError(f"token algorithm {algorithm!r} is not accepted")
        if algorithm == "HS256":
            if not self.secret:
                raise AuthError("HS256 tokens are not accepted here")
            return self.secret
        assert self.keys is not None  # the constructor refuses RS256/ES256 without keys
        kid = header.get("kid")
        try:
            found = await self.keys.key(kid if isinstance(kid, str) else None)
        except KeyNotFound as error:
            raise AuthError(str(error)) from None
        if found.algorithm_name not in (algorithm, None):
            raise AuthError("the token's algorithm does not match its key")
        return found.key

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            key = await self._key(header)
            hs256 = header.get("alg") == "HS256"
            payload = jwt.decode(
                token,
                key,
                algorithms=[str(header["alg"])],
                # service tokens (HS256) are this app's own; the provider's must name it
                issuer=None if hs256 else self.issuer,
                audience=None if hs256 else self.audience,
                options={
                    "require": ["exp", "sub"] if hs256 else ["exp", "sub", "iss", "aud"],
                    "verify_aud": not hs256,
                },
            )
            if not hs256 and self.map_claims is not None:
                # a provider token is always mapped: its own `role`/`state`/`states` claims
                # (a user attribute, a mapper) are never Readmit's, or a user who can edit an
                # attribute could make themselves an all-states auditor
                return self.map_claims(payload)
            return principal_from_claims(Claims.model_validate(payload))
        except jwt.PyJWTError as error:
            raise AuthError(f"invalid token: {error}") from error
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise AuthError(f"invalid token claim {field}: {first['msg']}") from error


def issue_dev_token(
    secret: str,
    *,
    user: str,
    role: Role,
    state: str | None,
    states: tuple[str, ...] = (),
    scopes: tuple[str, ...] = (),
    ttl_minutes: int = 480,
    now: float | None = None,
) -> str:
    """A development token signed with the shared secret (HS256)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": user,
        "role": role,
        "iat": issued,
        "exp": issued + ttl_minutes * 60,
    }
    if state:
        claims["state"] = state
    if states:
        claims["states"] = list(states)
    if scopes:
        claims["scope"] = " ".join(scopes)
    principal_from_claims(Claims.model_validate(claims))  # refuse to mint an unusable token
    return jwt.encode(claims, secret, algorithm="HS256")
