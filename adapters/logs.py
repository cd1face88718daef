"""Structured JSON logs (structlog) for workers, the API and the CLI.

Context such as `case_id`, `workflow_id` and `state` is bound with `bind_case` (contextvars), so
every line of an activity carries it. Personal data never goes into a log line.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "INFO") -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=numeric, force=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def bind_case(case_id: str, workflow_id: str, state: str | None = None) -> None:
    """Bind the case context of the current activity or request to every log line."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(case_id=case_id, workflow_id=workflow_id, state=state)
