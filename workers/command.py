"""The worker process's command: `python -m workers` and `readmit worker` are this function.

It reads the settings (the options override them; production unless READMIT_ENV says otherwise,
so a missing or weak secret is one line and exit 2 before anything starts), looks up PostgreSQL
and Temporal once (and checks the TLS files and, serving the case queue, the command verify
keys: a bad one exits 2 with one line), and runs `workers.root` until SIGTERM/SIGINT, when
in-flight tasks finish before it stops. Should a worker or a background loop fail first, the
rest shut down the same way and the process exits 1 with one line saying what failed. In
production a DATABASE_URL with the owner's rights exits 2: workers run as the runtime role, and
only `readmit db migrate` (READMIT_MIGRATION_DATABASE_URL) migrates.
"""

from __future__ import annotations

from typing import Annotated

import typer

from adapters import aio, metrics
from adapters.cert_expiry import record_certificate_expiry
from adapters.db.migrate import OwnerRightsError
from adapters.keys import command_verifier
from adapters.logs import configure_logging
from adapters.production import production_by_default, require_production, worker_needs
from adapters.settings import ConfigurationError, Settings, get_settings
from adapters.temporal.client import tls_config
from adapters.temporal.command_signing import CommandKeyError
from adapters.temporal.runtime import exit_now, install_runtime
from workers.queues import DEFAULT_STATES, QueueOptionsError, QueueSelection, select_queues
from workers.queues import checked_states as _checked_states
from workers.root import stop_on_signals, worker_root

__all__ = ["DEFAULT_STATES", "checked_states", "queue_selection", "worker_command"]
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def worker_command(
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state", help="serve this state's queue (repeatable; default: the demo set)"
        ),
    ] = None,
    cases: Annotated[
        bool | None,
        typer.Option("--cases/--no-cases", help="also serve the shared case queue (default)"),
    ] = None,
    cases_only: Annotated[
        bool,
        typer.Option(
            "--cases-only", help="serve the shared case queue and no state's queue (no --state)"
        ),
    ] = False,
    temporal_address: Annotated[
        str | None,
        typer.Option(
            "--temporal-address",
            help="host:port of the Temporal frontend (default: READMIT_TEMPORAL_ADDRESS)",
        ),
    ] = None,
) -> None:
    """Run workers for the case queue and some states' own queues (`--cases-only`: the case
    queue alone) until SIGTERM/SIGINT, then finish in-flight tasks and stop."""
    settings = production_by_default(get_settings())
    if temporal_address:
        settings = settings.model_copy(update={"temporal_address": temporal_address})
    configure_logging(settings.log_level)
    served = queue_selection(state, cases, cases_only)
    states, serves_cases = list(served.states), served.cases
    try:
        require_production(settings, worker_needs(settings, serves_cases=serves_cases))
        dsn = settings.dsn()
        address = settings.temporal_target(temporal_address)
        tls_config(settings)  # the files it names are readable, a client cert has its key
        if serves_cases:
            command_verifier(settings)  # the keys commands are checked with are keys
    except (ConfigurationError, CommandKeyError) as error:
        typer.echo(f"readmit: {error}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None

    install_runtime(prometheus_address=settings.sdk_metrics_address)
    metrics.start_exporter(settings.metrics_address)
    record_certificate_expiry(settings)  # issue 18: the alert on a certificate about to expire
    settings = settings.model_copy(update={"temporal_address": address})
    try:
        aio.run(serve(settings, dsn, states, serves_cases))
    except OwnerRightsError as error:  # production's DATABASE_URL is the owner's: a setting
        typer.echo(f"readmit: {error}", err=True)
        exit_now(EXIT_BAD_INPUT)
    except Exception as error:  # the operator gets one line, not a traceback
        typer.echo(f"readmit: the worker stopped: {_first_line(error)}", err=True)
        exit_now(EXIT_FAILED)
    exit_now()


def queue_selection(
    state: list[str] | None, cases: bool | None, cases_only: bool
) -> QueueSelection:
    """The queues the options name (`workers/queues.py`); contradicting options are a usage
    error: one line naming them, exit 2, before any setting is checked."""
    try:
        return select_queues(state, cases=cases, cases_only=cases_only)
    except QueueOptionsError as error:
        hint = "--cases-only" if cases_only else "--state"
        raise typer.BadParameter(str(error), param_hint=hint) from None


def checked_states(states: list[str] | tuple[str, ...]) -> list[str]:
    """`states` upper-cased; anything but ISO 3166 alpha-2 codes is a usage error."""
    try:
        return _checked_states(states)
    except QueueOptionsError as error:
        raise typer.BadParameter(str(error), param_hint="--state") from None


async def serve(settings: Settings, dsn: str, states: list[str], cases: bool) -> None:
    async with worker_root(settings, states, serve_cases=cases, dsn=dsn) as root:
        await root.run(stop_on_signals())


def _first_line(error: BaseException) -> str:
    """`Type: first line of the message`: no traceback, nor any detail lines under it."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
