"""`readmit registry import FILE.csv`: load a state's population and document registry.

Migrations run first. A file with problems is reported one line per problem (exit 2) and nothing
is written; a clean file is upserted in one transaction, so importing it again changes nothing.
The demo registry (synthetic persons) ships as `readmit/demo/registry.csv`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from adapters.db.migrate import MigrationError, migrate_dsn
from adapters.db.pool import create_pool
from adapters.registry import ImportReport, RegistryImportError, import_registry_csv
from adapters.settings import get_settings
from readmit.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    OwnerDatabaseUrl,
    Schema,
    fail,
    first_line,
    owner_database_url,
)

MAX_PROBLEM_LINES = 20
PROGRESS_FROM_ROWS = 2000  # smaller files import too fast for a bar to mean anything


def register(app: typer.Typer) -> None:
    """Add the `registry` command group to `app`."""
    group = typer.Typer(
        name="registry",
        help="The requested state's registry of persons and documents (default adapter).",
        no_args_is_help=True,
    )
    group.command("import")(import_command)
    app.add_typer(group, name="registry")


def import_command(
    file: Annotated[Path, typer.Argument(help="CSV, one row per document", metavar="FILE.csv")],
    state: Annotated[
        str | None, typer.Option("--state", help="state code for rows whose state is empty")
    ] = None,
    given: OwnerDatabaseUrl = None,
    schema: Schema = None,
) -> None:
    """Validate a registry CSV and upsert its persons and documents (idempotent; as the owner:
    the runtime role only reads the registries)."""
    dsn = owner_database_url(given)
    try:
        report = asyncio.run(_import(dsn, schema, file, state))
    except RegistryImportError as error:
        _print_problems(file, error)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except MigrationError as error:
        fail(str(error), EXIT_REFUSED)
    except _Unreachable as error:
        fail(f"cannot connect to PostgreSQL: {error}", EXIT_BAD_INPUT)
    except asyncpg.PostgresError as error:
        fail(f"PostgreSQL said: {first_line(error)}", EXIT_REFUSED)
    typer.echo(_summary(file, report))


async def _import(dsn: str, schema: str | None, file: Path, state: str | None) -> ImportReport:
    try:
        await migrate_dsn(
            dsn,
            schema=schema,
            create_schema=schema is not None,
            runtime=get_settings().runtime_role(),
        )
    except (OSError, TimeoutError, ValueError, asyncpg.InterfaceError) as error:
        raise _Unreachable(first_line(error)) from None
    pool = await create_pool(dsn, schema=schema, min_size=1, max_size=2)
    bar: Progress | None = None
    task = TaskID(0)

    def progress(done: int, total: int) -> None:
        nonlocal bar, task
        if total < PROGRESS_FROM_ROWS:
            return
        if bar is None:
            bar = Progress(
                TextColumn("writing persons and documents"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
            )
            bar.start()
            task = bar.add_task("rows", total=total)
        bar.update(task, completed=done)

    try:
        return await import_registry_csv(pool, file, state, progress)
    finally:
        if bar is not None:
            bar.stop()
        await pool.close()


class _Unreachable(Exception):
    """The database could not be reached at all (exit 2, like unusable input)."""


def _print_problems(file: Path, error: RegistryImportError) -> None:
    problems = error.problems
    for problem in problems[:MAX_PROBLEM_LINES]:
        where = f"{file.name} line {problem.line}" if problem.line else ""
        where += f", column {problem.column}" if problem.column else ""
        typer.echo(f"readmit: {where + ': ' if where else ''}{problem.message}", err=True)
    if len(problems) > MAX_PROBLEM_LINES:
        typer.echo(f"readmit: and {len(problems) - MAX_PROBLEM_LINES} more", err=True)
    typer.echo(f"readmit: nothing imported ({len(problems)} problem(s))", err=True)


def _summary(file: Path, r: ImportReport) -> str:
    return (
        f"imported {file.name}: {r.rows} rows, states {', '.join(r.states) or '-'}\n"
        f"  persons:   {r.persons} ({r.persons_new} new, {r.persons_updated} updated, "
        f"{r.persons_unchanged} unchanged)\n"
        f"  documents: {r.documents} ({r.documents_new} new, {r.documents_updated} updated, "
        f"{r.documents_unchanged} unchanged)"
    )
