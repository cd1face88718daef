"""The `readmit` command: one Typer app, each group of subcommands in its own module."""

from __future__ import annotations

import typer

from readmit.cli import agreements, db, identity

app = typer.Typer(
    name="readmit",
    help="Readmit: readmission cases between states, with exact deadlines and a verifiable history.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

agreements.register(app)
identity.register(app)
db.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
