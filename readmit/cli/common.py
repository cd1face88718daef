"""Shared CLI conventions: exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import Any, NoReturn

import typer

EXIT_OK = 0
EXIT_REFUSED = 1  # the input was understood but a rule or a check said no
EXIT_BAD_INPUT = 2  # the input could not be used at all


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print a one-line reason to stderr and exit with `code`."""
    typer.echo(f"readmit: {message}", err=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def exit_now(code: int = EXIT_OK) -> NoReturn:
    """Flush and leave at once, skipping interpreter finalisation.

    The Temporal SDK's native runtime keeps threads that may call into Python while the
    interpreter finalises, which aborts the process (SIGABRT) after the work is done; commands
    that ran a Temporal client or worker end through here instead.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def parse_instant(text: str, option: str) -> datetime:
    """An ISO 8601 instant with a UTC offset, or a one-line failure naming `option`."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not an ISO 8601 instant, e.g. 2027-01-04T10:00:00+01:00")
    if instant.utcoffset() is None:
        fail(f"{option} {text!r} has no UTC offset; write e.g. {text}+01:00")
    return instant
