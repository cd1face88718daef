"""`readmit db`: apply migrations, verify hash chains, manage the embedded PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer

from adapters.db.canonical import VerifyResult
from adapters.db.embedded import EmbeddedPostgres
from adapters.db.eventstore import EventStore
from adapters.db.migrate import (
    MigrationError,
    MigrationOutcome,
    RuntimeOutcome,
    create_schema_if_missing,
    migrate,
)
from adapters.db.pool import connect, create_pool
from adapters.settings import get_settings
from readmit.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    DatabaseUrl,
    OwnerDatabaseUrl,
    Schema,
    database_url,
    fail,
    owner_database_url,
)
from readmit.cli.db_reindex import reindex_search_command

T = TypeVar("T")


def register(app: typer.Typer) -> None:
    """Add the `db` command group to `app`."""
    db_app = typer.Typer(
        name="db", help="The PostgreSQL event store: migrations and checks.", no_args_is_help=True
    )
    db_app.command("migrate")(migrate_command)
    db_app.command("verify")(verify_command)
    db_app.command("url")(url_command)
    db_app.command("stop")(stop_command)
    db_app.command("reindex-search")(reindex_search_command)
    app.add_typer(db_app, name="db")


def migrate_command(
    given: OwnerDatabaseUrl = None,
    schema: Schema = None,
    runtime_login: Annotated[
        bool,
        typer.Option(
            "--runtime-login",
            help="let the runtime role log in (with READMIT_DB_RUNTIME_PASSWORD when set, which "
            "alone implies it)",
        ),
    ] = False,
) -> None:
    """Apply pending migrations as the owner, then create the runtime role if missing and grant
    it its privileges (idempotent; safe to run from several processes at once)."""
    dsn = owner_database_url(given)
    runtime = get_settings().runtime_role(login=runtime_login)

    def report(outcome: MigrationOutcome) -> None:
        milliseconds = round(outcome.seconds * 1000)
        typer.echo(f"{outcome.status:>15}  {outcome.migration.label}  ({milliseconds} ms)")

    def report_runtime(outcome: RuntimeOutcome) -> None:
        granted = outcome.granted
        typer.echo(
            f"runtime role {granted.role}: {outcome.role}; privileges on {granted.tables} "
            f"tables, {granted.sequences} sequences, {granted.functions} functions"
        )

    async def run() -> list[MigrationOutcome]:
        conn = await _connect(dsn, schema)
        try:
            if schema is not None:
                await create_schema_if_missing(conn, schema)
            return await migrate(
                conn, on_outcome=report, runtime=runtime, on_runtime=report_runtime, as_owner=True
            )
        finally:
            await conn.close()

    outcomes = _run_refusing(run)
    applied = sum(o.status == "applied" for o in outcomes)
    typer.echo(f"{applied} applied, {len(outcomes) - applied} already applied")


def verify_command(
    stream: Annotated[str | None, typer.Argument(help="a case id; all if omitted")] = None,
    given: DatabaseUrl = None,
    schema: Schema = None,
) -> None:
    """Recompute hash chains from the stored events; exit 1 if any stream is broken."""
    dsn = database_url(given)

    async def run() -> list[VerifyResult]:
        await (await _connect(dsn, schema)).close()  # fail early, with exit 2, if unreachable
        pool = await create_pool(dsn, schema=schema, min_size=1, max_size=2)
        try:
            store = EventStore(pool)
            if stream is not None:
                return [await store.verify(stream)]
            return [result async for result in store.verify_all()]
        finally:
            await pool.close()

    results = _run_refusing(run)
    broken = [r for r in results if not r.ok]
    for r in broken:
        typer.echo(f"BROKEN  {r.stream_id}  at version {r.first_broken_version}: {r.reason}")
    events = sum(r.checked for r in results)
    typer.echo(f"{len(results) - len(broken)} of {len(results)} streams intact ({events} events)")
    if broken or (stream is not None and results[0].checked == 0):
        raise typer.Exit(EXIT_REFUSED)


def url_command() -> None:
    """Print the DSN in use (starting the embedded server when DATABASE_URL is unset)."""
    typer.echo(database_url())


def stop_command() -> None:
    """Stop the embedded PostgreSQL under READMIT_HOME (its data is kept)."""
    server = EmbeddedPostgres(get_settings().home)
    if not server.is_running():
        typer.echo(f"not running ({server.data_dir})")
        return
    server.stop()
    typer.echo(f"stopped ({server.data_dir})")


async def _connect(dsn: str, schema: str | None) -> asyncpg.Connection:
    """Connect, turning every way of not reaching the database into exit 2 with one line."""
    try:
        return await connect(dsn, schema=schema)
    except (OSError, TimeoutError, ValueError, asyncpg.PostgresError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        fail(f"cannot connect to PostgreSQL: {reason}", EXIT_BAD_INPUT)


def _run_refusing(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; migration and SQL errors become exit 1 with one line."""

    async def wrapped() -> T:
        return await make()

    try:
        return asyncio.run(wrapped())
    except MigrationError as error:
        fail(str(error), EXIT_REFUSED)
    except asyncpg.PostgresError as error:
        fail(f"PostgreSQL said: {str(error).splitlines()[0]}", EXIT_REFUSED)
