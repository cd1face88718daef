"""`readmit api`: serve the HTTP API (uvicorn, the `api.app:create_app` factory).

Every log line is one JSON object on stderr: structlog's own, and the standard-library records
of uvicorn (access lines included) and of the Temporal SDK, rendered by structlog's formatter.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import structlog
import typer
import uvicorn

from adapters.logs import configure_logging
from adapters.settings import ConfigurationError, get_settings
from adapters.temporal.runtime import exit_now, install_runtime
from api.app import sign_in_from
from readmit.cli.common import EXIT_OK, fail


def register(app: typer.Typer) -> None:
    app.command("api")(api_command)


def json_log_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` that renders standard-library records as JSON lines."""
    level = level.upper() if isinstance(logging.getLevelName(level.upper()), int) else "INFO"
    pre_chain = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.JSONRenderer(ensure_ascii=False),
    ]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": renderer,
                "foreign_pre_chain": pre_chain,
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            name: {"handlers": [], "level": level, "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


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
    try:
        sign_in_from(settings)  # sign-in settings that cannot work stop it here, in one line
    except ConfigurationError as error:
        fail(str(error))
    install_runtime()  # before the app's lifespan connects its Temporal client
    code = EXIT_OK
    try:
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host or settings.api_host,
            port=port or settings.api_port,
            log_config=json_log_config(settings.log_level),
            server_header=False,
            timeout_keep_alive=settings.api_keep_alive_seconds,
        )
    except SystemExit as stop:  # uvicorn exits 3 when the app fails to start
        code = stop.code if isinstance(stop.code, int) else 1
    exit_now(code)
