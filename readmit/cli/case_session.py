"""What every `readmit case` command shares: the global options, the API connection, and the
turning of API answers into the CLI's exit codes.

The global options (`--api-url`, `--token`, `--json`, `--idempotency-key`) are accepted both
before the subcommand (`readmit case --json list`) and after it (`readmit case list --json`);
`with_session` adds them to each command so the command functions stay short.
Exit codes: 1 when the API refuses (403, 404, 409 and other 4xx), 2 for bad input (401, 422,
client-side checks) and when the API cannot be used (unreachable, too slow, 5xx).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any, NoReturn

import typer

from readmit.api_client import DEFAULT_API_URL, ApiClient, ApiError, ApiUnreachable
from readmit.cli.common import EXIT_BAD_INPUT, EXIT_REFUSED, fail

ApiUrl = Annotated[
    str | None, typer.Option("--api-url", help="base URL of the readmit API [env READMIT_API_URL]")
]
Token = Annotated[str | None, typer.Option(help="bearer token [env READMIT_TOKEN]")]
# The same options as a command's own (`readmit stats`, `readmit inbox`), read from the
# environment when not given.
ApiUrlFromEnv = Annotated[
    str, typer.Option("--api-url", envvar="READMIT_API_URL", help="base URL of the readmit API")
]
TokenFromEnv = Annotated[
    str | None, typer.Option(envvar="READMIT_TOKEN", help="bearer token", show_default=False)
]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of text")]
IdempotencyKey = Annotated[
    str | None,
    typer.Option(help="repeat a write safely: the same key gets the same answer, no new events"),
]


@dataclass(frozen=True, slots=True)
class Session:
    """The resolved global options of one invocation."""

    api_url: str = DEFAULT_API_URL
    token: str | None = None
    as_json: bool = False
    idempotency_key: str | None = None


def group_options(
    ctx: typer.Context,
    api_url: ApiUrlFromEnv = DEFAULT_API_URL,
    token: TokenFromEnv = None,
    as_json: AsJson = False,
    idempotency_key: IdempotencyKey = None,
) -> None:
    """Cases through the HTTP API: open, list, read, and every command of a case."""
    ctx.obj = Session(api_url, token or None, as_json, idempotency_key)


_CONTEXT = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
_GLOBALS = [
    inspect.Parameter("api_url", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ApiUrl),
    inspect.Parameter("token", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Token),
    inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=AsJson),
    inspect.Parameter(
        "idempotency_key", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=IdempotencyKey
    ),
]


def with_session(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command(session, ...)` the global options; Typer sees them as its own options."""
    inner = inspect.signature(command, eval_str=True)
    own = [p for name, p in inner.parameters.items() if name != "session"]

    @functools.wraps(command)
    def run(ctx: typer.Context, **kwargs: Any) -> None:
        given = {p.name: kwargs.pop(p.name) for p in _GLOBALS}
        parent = ctx.find_object(Session) or Session()
        session = replace(
            parent,
            api_url=given["api_url"] or parent.api_url,
            token=given["token"] or parent.token,
            as_json=given["as_json"] or parent.as_json,
            idempotency_key=given["idempotency_key"] or parent.idempotency_key,
        )
        command(session, **kwargs)

    run.__signature__ = inner.replace(parameters=[*own, _CONTEXT, *_GLOBALS])  # type: ignore[attr-defined]
    run.__annotations__ = {}
    return run


@contextmanager
def connected(session: Session) -> Iterator[ApiClient]:
    """An API client; every failure of the API becomes a one-line reason and an exit code."""
    try:
        with ApiClient(session.api_url, session.token) as client:
            yield client
    except ApiUnreachable as error:
        if error.timed_out:
            fail(
                f"no answer from the API at {error.url} in time; a write may still complete: "
                "repeat it with the same --idempotency-key"
            )
        fail(
            f"cannot reach the API at {error.url} ({error.reason}); start it with `make run` "
            "or point --api-url / READMIT_API_URL at it"
        )
    except ApiError as error:
        refused(error, session.api_url)


def refused(error: ApiError, url: str) -> NoReturn:
    """Print the problem in one or two lines (field errors one per line) and exit."""
    reason = f"{error.title}: {error.detail}" if error.detail else error.title
    if error.status == 401:
        fail(f"{reason}; pass --token or set READMIT_TOKEN")
    if error.status >= 500:
        fail(f"the API at {url} answered {error.status} {reason}")
    if error.domain_error:
        reason += f" [{error.domain_error}]"
    if error.rule:
        typer.echo(f"readmit:   rule: {error.rule}", err=True)
    if error.status == 422:
        for item in error.errors:
            typer.echo(f"readmit:   {item.field}: {item.message}", err=True)
        fail(reason, EXIT_BAD_INPUT)
    fail(reason, EXIT_REFUSED)


def instant(option: str, text: str | None) -> datetime | None:
    """An ISO 8601 instant with its UTC offset (a local time without one is ambiguous)."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not an ISO 8601 instant, e.g. 2027-01-04T10:00:00+01:00")
    if value.utcoffset() is None:
        fail(f"{option} {text!r} has no UTC offset; write e.g. {text}+01:00")
    return value


def reasons_required(option: str, reasons: list[str] | None) -> list[str]:
    given = [r.strip() for r in reasons or [] if r.strip()]
    if not given:
        fail(f"give at least one {option}")
    return given
