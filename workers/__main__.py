"""`python -m workers --state PL ...`: a worker process without the rest of the CLI."""

import typer

from workers.command import worker_command

typer.run(worker_command)
