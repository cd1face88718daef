"""`readmit identity mrz|unzr|match`: the identity checks of `domain.identity` from a terminal.

Each command prints JSON and exits 0 when the check passes, 1 when the input was read but a check
failed, and 2 with a one-line reason (no traceback) when the input is not an MRZ or UNZR at all.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from domain.identity.mrz import NotAnMrz, read_mrz
from domain.identity.names import name_match
from domain.identity.unzr import validate_unzr
from readmit.cli.common import EXIT_OK, EXIT_REFUSED, fail, print_json


def register(app: typer.Typer) -> None:
    """Add the `identity` group to the `readmit` app."""
    group = typer.Typer(
        help="Identity checks: MRZ check digits, Ukraine's UNZR, names across scripts.",
        no_args_is_help=True,
    )
    group.command("mrz")(mrz)
    group.command("unzr")(unzr)
    group.command("match")(match)
    app.add_typer(group, name="identity")


def mrz(
    lines: Annotated[
        list[str], typer.Argument(help="the MRZ lines (2 or 3), or one argument holding them all")
    ],
    today: Annotated[
        str | None,
        typer.Option(help="reference date YYYY-MM-DD for two-digit years (default: today)"),
    ] = None,
) -> None:
    """Parse an ICAO Doc 9303 MRZ (TD1, TD2, TD3) and verify every check digit."""
    reference = _date_option(today) if today else date.today()
    try:
        result = read_mrz(lines, reference)
    except NotAnMrz as exc:
        fail(str(exc))
    print_json(result.model_dump(mode="json"))
    raise typer.Exit(EXIT_OK if result.valid else EXIT_REFUSED)


def unzr(number: Annotated[str, typer.Argument(help="the UNZR, YYYYMMDD-NNNNC")]) -> None:
    """Validate a UNZR (Unified State Demographic Register number) and show its birth date."""
    result = validate_unzr(number)
    if not result.well_formed:
        fail(result.reason)
    print_json(result.model_dump(mode="json"))
    raise typer.Exit(EXIT_OK if result.valid else EXIT_REFUSED)


def match(
    name_a: Annotated[str, typer.Argument(help="a full name, any script, any word order")],
    name_b: Annotated[str, typer.Argument(help="the other full name")],
) -> None:
    """Score how likely two names denote the same person, with the reasons."""
    print_json(name_match(name_a, name_b))


def _date_option(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--today {text!r} is not a date YYYY-MM-DD")
