"""`readmit mrz read FILE`: the JSON of a read zone (exit 0), and a one-line reason with exit 2
for a missing file, a file that is no image and an image without an MRZ."""

from __future__ import annotations

import json
from pathlib import Path

import mrz_specimens as specimens
import typer
from typer.testing import CliRunner, Result

from readmit.cli.mrz import register


def run(*args: str) -> Result:
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, ["mrz", *args])


def test_a_scanned_identity_card_prints_its_fields(tmp_path: Path) -> None:
    scan = tmp_path / "card.jpg"
    photo = specimens.phone_photo(specimens.render(specimens.TD1_POLAND), angle=-3, jpeg=80)
    scan.write_bytes(photo)
    result = run("read", str(scan))
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["format"] == "TD1" and body["valid"]
    assert body["fields"]["surname"] == "KOWALSKA"
    assert body["suggested"]["evidence"] == {"kind": "identity_card", "number": "ABA300000"}


def test_unreadable_input_exits_2_with_a_reason(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    blank.write_bytes(specimens.blank())
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    for path, reason in (
        (blank, "no readable MRZ"),
        (text, "PNG or JPEG"),
        (tmp_path / "missing.png", "cannot read"),
    ):
        result = run("read", str(path))
        assert result.exit_code == 2, result.output
        assert reason in result.stderr
        assert not result.stdout
