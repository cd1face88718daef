"""`readmit directory`: load the officers' directory from a TOML or CSV file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import asyncpg
import typer

from adapters.db.migrate import MigrationError, migrate_dsn
from adapters.db.pool import connect
from adapters.directory import DirectoryError, ImportSummary, import_directory, load_directory
from adapters.settings import get_settings
from readmit.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    OwnerDatabaseUrl,
    Schema,
    fail,
    owner_database_url,
)


def register(app: typer.Typer) -> None:
    """Add the `directory` command group to `app`."""
    directory_app = typer.Typer(
        name="directory", help="The directory of officers and supervisors.", no_args_is_help=True
    )
    directory_app.command("import")(import_command)
    app.add_typer(directory_app, name="directory")


def import_command(
    file: Annotated[Path, typer.Argument(help="a .toml file of `officer` tables, or a .csv file")],
    given: OwnerDatabaseUrl = None,
    schema: Schema = None,
    deactivate_missing: Annotated[
        bool, typer.Option("--deactivate-missing", help="deactivate officers not in the file")
    ] = False,
) -> None:
    """Check the whole file, then add or update its officers in one transaction (as the owner:
    the runtime role only reads the directory)."""
    try:
        officers = load_directory(file)
    except DirectoryError as error:
        for problem in error.problems:
            typer.echo(f"readmit: {problem}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    dsn = owner_database_url(given)
    runtime = get_settings().runtime_role()

    async def run() -> ImportSummary:
        await migrate_dsn(dsn, schema=schema, create_schema=schema is not None, runtime=runtime)
        conn = await connect(dsn, schema=schema)
        try:
            return await import_directory(conn, officers, deactivate_missing=deactivate_missing)
        finally:
            await conn.close()

    try:
        summary = asyncio.run(run())
    except MigrationError as error:
        fail(str(error), EXIT_REFUSED)
    except asyncpg.PostgresError as error:
        fail(f"PostgreSQL said: {_first_line(error)}", EXIT_REFUSED)
    except (OSError, TimeoutError, ValueError, asyncpg.InterfaceError) as error:
        fail(f"cannot connect to PostgreSQL: {_first_line(error)}", EXIT_BAD_INPUT)
    typer.echo(
        f"{file.name}: {summary.total} officers: {len(summary.added)} added, "
        f"{len(summary.updated)} updated, {len(summary.unchanged)} unchanged, "
        f"{len(summary.deactivated)} deactivated"
    )
    if summary.deactivated:
        typer.echo("deactivated: " + ", ".join(summary.deactivated))


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
