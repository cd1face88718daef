"""Shared CLI conventions: exit codes, one-line errors, and the `--database-url` and
`--temporal-address` options with the one lookup behind them (`Settings.dsn`,
`Settings.migration_dsn` for commands the owner runs, `Settings.temporal_target`)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, NoReturn, TypeVar

import asyncpg
import typer

from adapters.db.migrate import MigrationError
from adapters.settings import ConfigurationError, get_settings

T = TypeVar("T")

EXIT_OK = 0
EXIT_REFUSED = 1  # the input was understood but a rule or a check said no
EXIT_BAD_INPUT = 2  # the input could not be used at all

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="PostgreSQL DSN (default: DATABASE_URL, else embedded)"),
]
OwnerDatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="PostgreSQL DSN of the owner role (default: READMIT_MIGRATION_DATABASE_URL, else "
        "DATABASE_URL, else embedded)",
    ),
]
Schema = Annotated[
    str | None, typer.Option("--schema", help="schema to use (default: the search_path's)")
]
TemporalAddress = Annotated[
    str | None,
    typer.Option(
        "--temporal-address",
        help="host:port of the Temporal frontend (default: READMIT_TEMPORAL_ADDRESS)",
    ),
]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print a one-line reason to stderr and exit with `code`."""
    typer.echo(f"readmit: {message}", err=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def database_url(given: str | None = None) -> str:
    """The DSN to use (`given`, else DATABASE_URL, else the embedded server, started if need
    be), or a one-line failure with exit 2."""
    try:
        return get_settings().dsn(given)
    except ConfigurationError as error:
        fail(str(error))


def owner_database_url(given: str | None = None) -> str:
    """The owner's DSN, for migrations and reference data (`given`, else
    READMIT_MIGRATION_DATABASE_URL, else as `database_url`), or a one-line failure with exit 2."""
    try:
        return get_settings().migration_dsn(given)
    except ConfigurationError as error:
        fail(str(error))


def temporal_address(given: str | None = None) -> str:
    """The Temporal frontend to use (`given`, else READMIT_TEMPORAL_ADDRESS), or a one-line
    failure with exit 2."""
    try:
        return get_settings().temporal_target(given)
    except ConfigurationError as error:
        fail(str(error))


def parse_instant(text: str, option: str) -> datetime:
    """An ISO 8601 instant with a UTC offset, or a one-line failure naming `option`."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not an ISO 8601 instant, e.g. 2027-01-04T10:00:00+01:00")
    if instant.utcoffset() is None:
        fail(f"{option} {text!r} has no UTC offset; write e.g. {text}+01:00")
    return instant


def run_on_database(
    run: Callable[[], Coroutine[Any, Any, T]], refusals: tuple[type[Exception], ...] = ()
) -> T:
    """Run a command's database work: its own `refusals`, a migration that cannot apply and
    PostgreSQL's errors are exit 1; a database that cannot be reached is exit 2. One line each."""
    try:
        return asyncio.run(run())
    except refusals as error:
        fail(str(error), EXIT_REFUSED)
    except MigrationError as error:
        fail(str(error), EXIT_REFUSED)
    except asyncpg.PostgresError as error:
        fail(f"PostgreSQL said: {first_line(error)}", EXIT_REFUSED)
    except (OSError, TimeoutError, ValueError, asyncpg.InterfaceError) as error:
        fail(f"cannot connect to PostgreSQL: {first_line(error)}", EXIT_BAD_INPUT)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
