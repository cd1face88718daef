"""`readmit mrz read FILE`: the MRZ of a passport or identity card image, read by OCR on this
machine (Tesseract) and checked, printed as the JSON `POST /mrz/read` answers.

Exits 0 when every check passed, 1 when a zone was read but a check failed, and 2 with a
one-line reason when the file is missing, not a PNG or JPEG image, or has no readable MRZ.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from adapters.mrz_scan import TesseractUnavailable, read_mrz
from api.mrz_scans import SCAN_DEADLINE_SECONDS, checked_image, scan_answer
from api.problems import Problem
from readmit.cli.common import EXIT_OK, EXIT_REFUSED, fail, print_json


def register(app: typer.Typer) -> None:
    """Add the `mrz` group to the `readmit` app."""
    group = typer.Typer(help="Machine-readable zones read from scans.", no_args_is_help=True)
    group.command("read")(read)
    app.add_typer(group, name="mrz")


def read(
    file: Annotated[Path, typer.Argument(help="a PNG or JPEG image of the document")],
) -> None:
    """Read the MRZ of a passport or identity card image and check its digits."""
    try:
        data = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}")
    try:
        checked_image(data)
        scan = read_mrz(data, today=date.today(), deadline=SCAN_DEADLINE_SECONDS)
    except Problem as problem:
        fail(problem.detail or problem.title)
    except TesseractUnavailable as error:
        fail(f"OCR is not installed: {error}")
    if not scan.found:
        fail(scan.reason or "no readable MRZ was found in the image")
    answer = scan_answer(scan)
    print_json(answer)
    raise typer.Exit(EXIT_OK if answer["valid"] else EXIT_REFUSED)
