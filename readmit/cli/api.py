"""`readmit api`: serve the HTTP API (uvicorn, the `api.app:create_app` factory)."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from readmit.cli.common import EXIT_OK, exit_now
from readmit.logs import configure_logging
from readmit.settings import get_settings
from readmit.temporal.runtime import install_runtime


def register(app: typer.Typer) -> None:
    app.command("api")(api_command)


def api_command(
    host: Annotated[
        str | None, typer.Option(help="address to listen on (default: READMIT_API_HOST)")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="port to listen on (default: READMIT_API_PORT)"),
    ] = None,
) -> None:
    """Serve the API until SIGINT/SIGTERM; PostgreSQL and Temporal come from the settings."""
    settings = get_settings()
    configure_logging(settings.log_level)
    install_runtime()  # before the app's lifespan connects its Temporal client
    code = EXIT_OK
    try:
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host or settings.api_host,
            port=port or settings.api_port,
            log_config=None,  # uvicorn's lines go through the logging configured above
            server_header=False,
        )
    except SystemExit as stop:  # uvicorn exits 3 when the app fails to start
        code = stop.code if isinstance(stop.code, int) else 1
    exit_now(code)
