"""The queues a deployed `readmit worker` serves, read from its arguments by the command's own
parser and `workers/queues.py`, as the process reads them; shared by tests/deploy/."""

from __future__ import annotations

from collections.abc import Sequence

import typer
from typer.core import TyperGroup

from readmit.cli.main import app
from workers.queues import QueueSelection, select_queues


def worker_queues(args: Sequence[str]) -> QueueSelection:
    """What `readmit worker <args[1:]>` serves (`args[0]` is "worker"); a usage error raises."""
    assert args[0] == "worker", args
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    worker = group.commands["worker"]
    params = worker.make_context("worker", list(args[1:])).params
    return select_queues(params["state"], cases=params["cases"], cases_only=params["cases_only"])
