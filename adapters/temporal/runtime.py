"""The Temporal SDK runtime: its native core's log lines go through Python logging (stderr, as
JSON once `configure_logging` ran) instead of being printed to stdout, where they would corrupt
the CLI's JSON output. Prometheus metrics of the SDK are exported from here too when asked."""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)


def install_runtime(level: str = "WARN", prometheus_address: str | None = None) -> Runtime:
    """Create and install the default runtime (call once, before any client or worker)."""
    logger = logging.getLogger("temporalio.core")
    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level=level, other_level=level),
                forwarding=LogForwardingConfig(logger=logger),
            ),
            metrics=PrometheusConfig(bind_address=prometheus_address)
            if prometheus_address
            else None,
        )
    )
    Runtime.set_default(runtime, error_if_already_set=False)
    return runtime


def exit_now(code: int = 0) -> NoReturn:
    """Flush and leave at once, skipping interpreter finalisation.

    The SDK's native runtime keeps threads that may call into Python while the interpreter
    finalises, which aborts the process (SIGABRT) after the work is done; commands that ran a
    Temporal client or worker end through here instead.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
