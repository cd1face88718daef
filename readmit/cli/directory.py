"""`readmit directory`: load the officers' directory from a TOML or CSV file, and issue the
webhook signing secrets of its recipients.

A secret is printed once, when issued: on stdout, for the operator to hand to the receiver's
owner; Readmit keeps it only wrapped by the master key (READMIT_MASTER_KEYS).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import asyncpg
import typer
from asyncpg.pool import PoolConnectionProxy

from adapters.db.migrate import migrate_dsn
from adapters.db.pool import connect
from adapters.directory import (
    DirectoryError,
    ImportSummary,
    IssuedSecret,
    NoWebhook,
    import_directory,
    issue_webhook_secret,
    load_directory,
)
from adapters.keys import master_keyring
from adapters.settings import get_settings
from adapters.temporal.codec import Keyring, KeyringError
from readmit.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    OwnerDatabaseUrl,
    Schema,
    fail,
    owner_database_url,
    run_on_database,
)

T = TypeVar("T")
Connection = asyncpg.Connection | PoolConnectionProxy


def register(app: typer.Typer) -> None:
    """Add the `directory` command group to `app`."""
    directory_app = typer.Typer(
        name="directory", help="The directory of officers and supervisors.", no_args_is_help=True
    )
    directory_app.command("import")(import_command)
    directory_app.command("webhook-secret")(webhook_secret_command)
    app.add_typer(directory_app, name="directory")


def import_command(
    file: Annotated[Path, typer.Argument(help="a .toml file of `officer` tables, or a .csv file")],
    given: OwnerDatabaseUrl = None,
    schema: Schema = None,
    deactivate_missing: Annotated[
        bool, typer.Option("--deactivate-missing", help="deactivate officers not in the file")
    ] = False,
) -> None:
    """Check the whole file, then add or update its officers in one transaction. A webhook URL
    that is new or changed gets its own signing secret, printed here once."""
    settings = get_settings()
    try:
        officers = load_directory(file, production=settings.production)
    except DirectoryError as error:
        for problem in error.problems:
            typer.echo(f"readmit: {problem}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    master = _master()

    async def work(conn: Connection) -> ImportSummary:
        return await import_directory(
            conn, officers, master=master, deactivate_missing=deactivate_missing
        )

    summary = _on_database(given, schema, work)
    typer.echo(
        f"{file.name}: {summary.total} officers: {len(summary.added)} added, "
        f"{len(summary.updated)} updated, {len(summary.unchanged)} unchanged, "
        f"{len(summary.deactivated)} deactivated"
    )
    if summary.deactivated:
        typer.echo("deactivated: " + ", ".join(summary.deactivated))
    for issued in summary.secrets:
        _show(issued)


def webhook_secret_command(
    user_id: Annotated[str, typer.Argument(help="the officer whose webhook gets a new secret")],
    keep_previous_hours: Annotated[
        float,
        typer.Option(
            "--keep-previous-hours",
            min=0,
            help="the replaced secret signs beside the new one this long (0: a leaked secret)",
        ),
    ] = 24.0,
    given: OwnerDatabaseUrl = None,
    schema: Schema = None,
) -> None:
    """Issue a new webhook signing secret for an officer (rotation, or a webhook registered
    before secrets were per recipient) and print it once."""
    master = _master()

    async def work(conn: Connection) -> IssuedSecret:
        keep = timedelta(hours=keep_previous_hours) if keep_previous_hours else None
        return await issue_webhook_secret(conn, user_id, master, keep_previous=keep)

    try:
        issued = _on_database(given, schema, work)
    except NoWebhook:
        fail(f"{user_id} is not in the directory with a webhook URL", EXIT_REFUSED)
    _show(issued)


def _show(issued: IssuedSecret) -> None:
    """The secret on stdout, this once; what to do with it on stderr."""
    typer.echo(f"webhook secret of {issued.user_id}: {issued.secret.get_secret_value()}")
    note = f"give it to the owner of {issued.webhook_url}; it is not shown again"
    if issued.previous_until is not None:
        note += f"; the previous secret also signs until {issued.previous_until.isoformat()}"
    typer.echo(note, err=True)


def _master() -> Keyring:
    try:
        return master_keyring(get_settings())
    except KeyringError as error:
        fail(str(error))


def _on_database(
    given: str | None, schema: str | None, work: Callable[[Connection], Awaitable[T]]
) -> T:
    """Migrate, then run `work` on one connection as the owner (the runtime role only reads the
    directory); database problems end the command."""
    dsn = owner_database_url(given)
    runtime = get_settings().runtime_role()

    async def run() -> T:
        await migrate_dsn(dsn, schema=schema, create_schema=schema is not None, runtime=runtime)
        conn = await connect(dsn, schema=schema)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return run_on_database(run)
