"""`readmit worker`: the worker process of `python -m workers`, under the CLI."""

from __future__ import annotations

import typer

from readmit.cli.worker_version import worker_version_command
from workers.command import worker_command


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)
    app.command("worker-version")(worker_version_command)
