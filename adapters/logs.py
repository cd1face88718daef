"""Structured JSON logs (structlog) for workers, the API and the CLI.

Context such as `case_id`, `workflow_id` and `state` is bound with `bind_case` (contextvars), so
every line of an activity carries it. Personal data never goes into a log line.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO, cast

import structlog


class _CurrentStderr:
    """Whatever `sys.stderr` is when a line is written, not when logging was configured: a
    command run inside another program (a test's CliRunner swaps the streams for one call and
    closes its own afterwards) must not leave every later log line writing to a closed file."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO") -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    stderr = cast(TextIO, _CurrentStderr())
    logging.basicConfig(format="%(message)s", stream=stderr, level=numeric, force=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=stderr),
        # Not cached: a module's logger follows the configuration in force when it logs, so a
        # test's `capture_logs` sees every line whatever ran before it (a few microseconds a
        # line; a case commit logs one).
        cache_logger_on_first_use=False,
    )


def bind_case(case_id: str, workflow_id: str, state: str | None = None) -> None:
    """Bind the case context of the current activity or request to every log line."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(case_id=case_id, workflow_id=workflow_id, state=state)
