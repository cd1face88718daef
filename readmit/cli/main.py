"""The `readmit` command: one Typer app, each group of subcommands in its own module."""

from __future__ import annotations

import typer

from readmit.cli import agreements, audit, case, db, directory, identity, registry, simulate, worker

app = typer.Typer(
    name="readmit",
    help="Readmit: readmission cases between states, exact deadlines, a verifiable history.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

agreements.register(app)
audit.register(app)
case.register(app)
identity.register(app)
db.register(app)
directory.register(app)
registry.register(app)
simulate.register(app)
worker.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
