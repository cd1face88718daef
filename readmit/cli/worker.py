"""`readmit worker`: run workers for the case queue and for some states' own queues."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters import aio, metrics
from adapters.db.embedded import EmbeddedPostgresError, resolve_database_url
from adapters.db.migrate import migrate_dsn
from adapters.db.pool import create_pool
from adapters.db.projector import CaseProjector
from adapters.keys import master_keyring
from adapters.logs import configure_logging
from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings, get_settings
from adapters.temporal.client import connect_client
from adapters.temporal.retention import ensure_retention_schedule
from adapters.temporal.runtime import install_runtime
from readmit.cli.common import exit_now, fail
from workers.main import build_dispatcher, build_workers, run_workers, stop_on_signals

DEFAULT_STATES = ("UA", "MD", "PL", "RO", "DE")


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)


def worker_command(
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state", help="serve this state's queue (repeatable; default: the demo set)"
        ),
    ] = None,
    cases: Annotated[
        bool, typer.Option("--cases/--no-cases", help="also serve the shared case queue")
    ] = True,
    temporal_address: Annotated[
        str | None, typer.Option("--temporal-address", help="host:port of the Temporal frontend")
    ] = None,
) -> None:
    """Run until SIGTERM/SIGINT, then finish in-flight tasks and stop."""
    settings = get_settings()
    configure_logging(settings.log_level)
    install_runtime(prometheus_address=settings.sdk_metrics_address)
    metrics.start_exporter(settings.metrics_address)
    states = [s.upper() for s in (state or DEFAULT_STATES)]
    bad = [s for s in states if len(s) != 2 or not s.isalpha()]
    if bad:
        fail(f"--state takes ISO 3166 alpha-2 codes, not {', '.join(bad)}")
    address = temporal_address or settings.temporal_address
    if address is None:
        fail("no Temporal server: set READMIT_TEMPORAL_ADDRESS or pass --temporal-address")
    try:
        dsn = resolve_database_url(settings)
    except EmbeddedPostgresError as error:
        fail(f"no PostgreSQL: {str(error).splitlines()[0]}")
    aio.run(serve(settings, dsn, address, states, cases))
    exit_now()


async def serve(settings: Settings, dsn: str, address: str, states: list[str], cases: bool) -> None:
    await migrate_dsn(dsn)
    pool = await create_pool(dsn, min_size=2, max_size=20)
    try:
        client = await connect_client(settings, address)
        vault = PersonalDataVault(pool, master_keyring(settings))
        if cases:
            await ensure_retention_schedule(
                client, settings.retention_schedule, settings.queue_prefix
            )
        workers = build_workers(
            client,
            pool,
            states,
            vault=vault,
            serve_cases=cases,
            queue_prefix=settings.queue_prefix,
            channels=settings.notify_channels,
            sandbox=settings.workflow_sandbox,
        )
        loops = [build_dispatcher(pool, settings.dispatch).run_forever]
        if cases:
            loops.append(CaseProjector(pool, vault=vault).follow)
        await run_workers(workers, stop_on_signals(), loops)
    finally:
        await pool.close()
