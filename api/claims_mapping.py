"""From an identity provider's claims to a Readmit principal: which user, which role, which
state(s), each read from a configurable claim (Keycloak realm roles, groups, a user attribute).

A user whose claims map to no role, to two incompatible roles, or to no state (or, for anyone
but an auditor, to more than one) is refused with a message saying which: the provider knows the
person, Readmit does not know what they may do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from adapters.settings import ConfigurationError, Settings
from api.auth import AuthError, Claims, Principal, Role, principal_from_claims

# Several writer roles are one person with composite roles: the strongest counts. An auditor or
# administrator who is also an officer is refused (they are separate duties).
WRITER_RANK: dict[str, int] = {"officer": 0, "supervisor": 1}


class Unmapped(AuthError):
    """The provider's claims name no usable Readmit role or state (403 on the sign-in page)."""


def claim_values(claims: dict[str, Any], path: str) -> list[str]:
    """The string(s) at a dotted path (`realm_access.roles`, `groups`): a string or a list."""
    node: Any = claims
    if path in claims:  # a claim whose name has dots in it (some providers use URLs)
        node = claims[path]
    else:
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return []
            node = node[part]
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [v for v in node if isinstance(v, str)]
    return []


@dataclass(frozen=True)
class ClaimsMapping:
    # `sub` is the provider's stable, unique id (OIDC Core 5.7: `preferred_username` may change
    # and need not be unique); a provider that guarantees both may be told otherwise
    user_claim: str = "sub"
    role_claim: str = "realm_access.roles"
    role_map: dict[str, Role] = field(default_factory=dict)
    state_claim: str = "readmit_state"
    state_pattern: str = r"^([A-Z]{2})$"

    @classmethod
    def from_settings(cls, settings: Settings) -> ClaimsMapping:
        try:
            pattern = re.compile(settings.oidc_state_pattern)
        except re.error as error:
            raise ConfigurationError(f"READMIT_OIDC_STATE_PATTERN is not valid: {error}") from None
        if pattern.groups < 1:
            raise ConfigurationError("READMIT_OIDC_STATE_PATTERN needs a group for the state")
        return cls(
            user_claim=settings.oidc_user_claim,
            role_claim=settings.oidc_role_claim,
            role_map=dict(settings.oidc_role_map),
            state_claim=settings.oidc_state_claim,
            state_pattern=settings.oidc_state_pattern,
        )

    def role(self, claims: dict[str, Any]) -> Role:
        roles = {
            self.role_map[v] for v in claim_values(claims, self.role_claim) if v in self.role_map
        }
        if not roles:
            raise Unmapped(
                f"no Readmit role: claim '{self.role_claim}' names none of the mapped values"
            )
        if len(roles) == 1:
            return roles.pop()
        if roles <= set(WRITER_RANK):
            return max(roles, key=WRITER_RANK.__getitem__)
        raise Unmapped(
            f"claim '{self.role_claim}' maps to several roles: {', '.join(sorted(roles))}"
        )

    def states(self, claims: dict[str, Any]) -> list[str]:
        pattern = re.compile(self.state_pattern)
        found: list[str] = []
        for value in claim_values(claims, self.state_claim):
            match = pattern.match(value)
            if match and match.group(1) and match.group(1) not in found:
                found.append(match.group(1))
        return found

    def principal(self, claims: dict[str, Any], *, expires: int) -> Principal:
        """The principal the claims describe, or `Unmapped` saying what is missing."""
        users = claim_values(claims, self.user_claim) or claim_values(claims, "sub")
        if not users:
            raise Unmapped(f"no user: the claims have neither '{self.user_claim}' nor 'sub'")
        role = self.role(claims)
        states = self.states(claims)
        if not states:
            raise Unmapped(f"no state: claim '{self.state_claim}' names no state")
        if role != "auditor" and len(states) > 1:
            raise Unmapped(f"a {role} acts for one state; claim '{self.state_claim}' names several")
        try:
            checked = Claims(
                sub=users[0],
                role=role,
                state=states[0] if role != "auditor" else None,
                states=tuple(states) if role == "auditor" else (),
                exp=expires,
                # OAuth 2.0 scopes pass through: `codec:decode` makes an operator
                scope=scope if isinstance(scope := claims.get("scope", ""), str) else "",
            )
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise Unmapped(f"unusable claim for {where}: {first['msg']}") from None
        return principal_from_claims(checked)
