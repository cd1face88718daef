"""`readmit worker`: the worker process of `python -m workers`, under the CLI."""

from __future__ import annotations

import typer

from workers.command import worker_command


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)
