"""The Temporal SDK runtime: its native core's log lines go through Python logging (stderr, as
JSON once `configure_logging` ran) instead of being printed to stdout, where they would corrupt
the CLI's JSON output. Prometheus metrics of the SDK are exported from here too when asked."""

from __future__ import annotations

import logging

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
