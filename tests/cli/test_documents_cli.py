"""`readmit case document CASE_ID NAME -o FILE` against the real API over HTTP: the PDF saved
with the name in both scripts, its size and hash with --json; a document the case has not
reached exits 1 with the API's reason and writes nothing; an unknown name exits 2."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from served_api import ServedApi
from test_case_cli import PERSON, Terminal

pytestmark = pytest.mark.temporal


async def test_documents_through_the_cli(served_api: ServedApi, tmp_path: Path) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    known = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    opened = await anna(
        "open", "--agreement", "eu-ua", "--requested", "UA", "--category", "own_national",
        *PERSON, "--evidence", "passport:FA123456", "--knowledge-at", known,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()

    target = tmp_path / "application.pdf"
    saved = await anna("document", case_id, "application", "-o", str(target))
    assert saved.exit_code == 0, saved.output
    assert saved.stdout.strip().startswith(f"{case_id}: application saved to {target}")
    text = "\n".join(page.extract_text() for page in PdfReader(target).pages)
    assert "SHEVCHENKO Oleksandr" in text and "ШЕВЧЕНКО Олександр" in text

    again = tmp_path / "again.pdf"
    described = await anna("--json", "document", case_id, "application.pdf", "-o", str(again))
    assert described.exit_code == 0, described.output
    answer = json.loads(described.stdout)
    assert answer["document"] == "application" and answer["bytes"] == again.stat().st_size
    assert answer["sha256"] == hashlib.sha256(again.read_bytes()).hexdigest()

    reply = tmp_path / "reply.pdf"
    missing = await anna("document", case_id, "reply", "-o", str(reply))
    assert missing.exit_code == 1
    assert "not replied yet" in missing.stderr
    assert sorted(os.listdir(tmp_path)) == ["again.pdf", "application.pdf"]  # no partial file
    unknown = await anna("document", case_id, "passport")
    assert unknown.exit_code == 2 and "no document 'passport'" in unknown.stderr
    stranger = Terminal(served_api, served_api.token("hans.de", "officer", "DE"))
    hidden = await stranger("document", case_id, "application", "-o", str(tmp_path / "x.pdf"))
    assert hidden.exit_code == 1 and f"no case {case_id}" in hidden.stderr
