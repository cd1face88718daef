"""Who runs an audit command that shows personal data (`readmit audit replay`, `export`): the
identity of a bearer token the API itself would accept (`--token` or `READMIT_TOKEN`, checked
by the app's `TokenVerifier`), never a name typed on the command line. The disclosure log
records that identity, and the token's auditor may reach only the cases it may audit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated

import typer

from adapters.db.eventstore import Recorded
from adapters.settings import ConfigurationError, get_settings
from api.app import sign_in_from
from api.auth import AuthError, Principal
from domain.decider import fold
from readmit.cli.common import EXIT_REFUSED, fail

AuditToken = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="READMIT_TOKEN",
        help="your bearer token, as for the API: the disclosure log records its identity",
        show_default=False,
    ),
]


def token_auditor(token: str | None) -> Principal:
    """The auditor the token names, or a one-line failure (exit 2 without a usable token,
    1 for a token of another role)."""
    if not token:
        fail(
            "this command shows personal data under your identity: pass --token or set"
            " READMIT_TOKEN (an auditor's token the API accepts)"
        )
    try:
        verifier, _ = sign_in_from(get_settings())  # the provider's keys too, as the API
        caller = asyncio.run(verifier.verify(token))
    except (AuthError, ConfigurationError) as error:
        fail(f"the token is not accepted: {error}")
    if caller.role != "auditor":
        fail(f"audit commands are for auditors; the token is a {caller.role}'s", EXIT_REFUSED)
    return caller


def may_audit(caller: Principal, recorded: Sequence[Recorded]) -> bool:
    """Whether the auditor may audit the case of these events: judged from the case itself (its
    parties, and whether it was submitted), as the API judges from the read model, which a
    command-line process may not have caught up with."""
    state = fold(r.event() for r in recorded)
    if state.terms is None:
        return False
    disclosed = state.submitted_at is not None
    return caller.sees_case(state.terms.requesting, state.terms.requested, disclosed=disclosed)
