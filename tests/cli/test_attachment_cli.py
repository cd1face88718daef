"""`readmit case attach|attachments|attachment` against the real API over HTTP: a PNG and a
PDF attached, listed as JSON, saved back byte for byte; a file of another type exits 1 with
the API's 415, a missing local file exits 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from attachment_files import gif, pdf, png
from served_api import ServedApi
from test_case_cli import PERSON, Terminal

pytestmark = pytest.mark.temporal


async def test_attach_list_and_save_through_the_cli(served_api: ServedApi, tmp_path: Path) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    known = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    opened = await anna(
        "open", "--agreement", "eu-ua", "--requested", "UA", "--category", "own_national",
        *PERSON, "--evidence", "passport:FA123456", "--knowledge-at", known,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()
    scan, document = tmp_path / "scan.png", tmp_path / "annex.pdf"
    scan.write_bytes(png(11))
    document.write_bytes(pdf("Annex"))

    added = await anna("attach", case_id, str(scan), "--description", "passport page")
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith(f"{case_id}: attachment ") and "image/png" in added.stdout
    as_json = await anna("--json", "attach", case_id, str(document))
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["media_type"] == "application/pdf"

    listed = await anna("attachments", case_id)
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.stdout)
    assert [i["media_type"] for i in items] == ["image/png", "application/pdf"]
    assert items[0]["description"] == "passport page"

    saved = tmp_path / "back.png"
    got = await anna("attachment", case_id, items[0]["attachment_id"], "-o", str(saved))
    assert got.exit_code == 0, got.output
    assert saved.read_bytes() == scan.read_bytes()
    assert f"to {saved}" in got.stdout

    other = tmp_path / "picture.png"
    other.write_bytes(gif())
    refused = await anna("attach", case_id, str(other))
    assert refused.exit_code == 1 and "Unsupported media type" in refused.stderr
    missing = await anna("attach", case_id, str(tmp_path / "nowhere.pdf"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    unknown = await anna(
        "attachment", case_id, "00000000-0000-4000-8000-000000000000", "-o", str(saved)
    )
    assert unknown.exit_code == 1 and "no attachment" in unknown.stderr
