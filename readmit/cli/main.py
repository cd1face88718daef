"""The `readmit` command: one Typer app, each group of subcommands in its own module."""

from __future__ import annotations

import sys

import typer

from adapters.settings import ConfigurationError
from readmit.cli import (
    agreements,
    audit,
    case,
    db,
    directory,
    identity,
    inbox,
    keys,
    mrz,
    node,
    peers,
    privacy,
    registry,
    run,
    search,
    simulate,
    stats,
    token,
    worker,
)
from readmit.cli import api as api_command
from readmit.cli import workload as workload_command
from readmit.cli.common import EXIT_BAD_INPUT

app = typer.Typer(
    name="readmit",
    help="Readmit: readmission cases between states, exact deadlines, a verifiable history.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

run.register(app)
api_command.register(app)
worker.register(app)
agreements.register(app)
audit.register(app)
case.register(app)
identity.register(app)
inbox.register(app)
mrz.register(app)
db.register(app)
directory.register(app)
node.register(app)
peers.register(app)
privacy.register(app)
registry.register(app)
simulate.register(app)
stats.register(app)
search.register(app)
workload_command.register(app)
token.register(app)
app.add_typer(keys.app, name="keys")


def main() -> None:
    """The `readmit` command. A setting found missing deep inside a command (production keys,
    `adapters.production`) is one line and exit 2, like every other usage error."""
    try:
        app()
    except ConfigurationError as error:
        typer.echo(f"readmit: {error}", err=True)
        sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    main()
