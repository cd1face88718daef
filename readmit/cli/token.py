"""`readmit token`: a development bearer token (HS256, the shared or dev secret) for the API.

Production tokens come from the identity provider; this exists for laptops, demos and scripts.
`--node UA` signs with the key set of the UA node of `readmit run --federated`
(`<READMIT_HOME>/nodes/UA/keys.env`): that node accepts the token, and no other.
It refuses (exit 2, one line) when the API would not accept the token: HS256 not allowed, no
secret, or claims that do not make a principal (an auditor without states, a bad state code).
"""

from __future__ import annotations

from typing import Annotated, get_args

import typer
from pydantic import ValidationError

from adapters.federation.identity import IdentityError, check_state
from adapters.keys import jwt_secret
from adapters.settings import get_settings
from api.auth import AuthError, Role, issue_dev_token
from readmit.cli.common import fail
from readmit.cli.federation import NodeSetupError, node_jwt_secret

ROLES: tuple[str, ...] = get_args(Role)


def register(app: typer.Typer) -> None:
    app.command("token")(token)


def token(
    user: Annotated[str, typer.Option(help="user id (the token's `sub`), e.g. anna.pl")],
    role: Annotated[str, typer.Option(help=f"one of: {', '.join(ROLES)}")],
    state: Annotated[
        str | None,
        typer.Option(help="ISO code of the user's state (officers, supervisors, admins)"),
    ] = None,
    states: Annotated[
        str | None,
        typer.Option(help="comma-separated states an auditor may audit, or '*' for every state"),
    ] = None,
    scope: Annotated[
        str | None,
        typer.Option(
            help="space-separated scopes, e.g. 'codec:decode' (an admin decoding payloads)"
        ),
    ] = None,
    ttl_minutes: Annotated[
        int | None, typer.Option(help="lifetime in minutes (default: READMIT_TOKEN_TTL_MINUTES)")
    ] = None,
    node: Annotated[
        str | None,
        typer.Option(
            help="sign for this node of `readmit run --federated` (its state), with its keys"
        ),
    ] = None,
) -> None:
    """Print a development token the API accepts (HS256 with the configured or dev secret)."""
    settings = get_settings()
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    if "HS256" not in settings.jwt_algorithms:
        allowed = ", ".join(settings.jwt_algorithms)
        fail(f"HS256 tokens are not accepted here (READMIT_JWT_ALGORITHMS: {allowed})")
    if node is not None:
        try:
            secret: str | None = node_jwt_secret(settings.home, check_state(node.upper()))
        except (NodeSetupError, IdentityError) as error:
            fail(str(error))
    else:
        secret = jwt_secret(settings)
    if not secret:
        fail("no HS256 secret: set READMIT_JWT_SECRET")
    ttl = ttl_minutes if ttl_minutes is not None else settings.token_ttl_minutes
    if ttl < 1:
        fail(f"--ttl-minutes must be at least 1, not {ttl}")
    audited = tuple(
        s.strip().upper() if s.strip() != "*" else "*" for s in (states or "").split(",")
    )
    try:
        minted = issue_dev_token(
            secret,
            user=user,
            role=role,  # type: ignore[arg-type]  # checked against ROLES above
            state=state.upper() if state else None,
            states=tuple(s for s in audited if s),
            scopes=tuple((scope or "").split()),
            ttl_minutes=ttl,
        )
    except AuthError as error:
        fail(str(error))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        fail(f"unusable claim {field}: {first['msg']}")
    typer.echo(minted)
