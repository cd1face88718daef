"""`readmit case attachment-mrz` against the real API over HTTP: a passport photo attached to
the case is read and printed as `readmit mrz read` prints it (exit 0); a PDF and an image
without a zone exit 2 with the reason; another state's officer exits 1 (no such case)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import mrz_specimens as specimens
import pytest
from attachment_files import pdf
from served_api import ServedApi
from test_case_cli import PERSON, Terminal

pytestmark = pytest.mark.temporal


async def test_the_mrz_of_an_attachment_through_the_cli(
    served_api: ServedApi, tmp_path: Path
) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    known = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    opened = await anna(
        "open", "--agreement", "eu-ua", "--requested", "UA", "--category", "own_national",
        *PERSON, "--evidence", "identity_card:ABA300000", "--knowledge-at", known,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()
    files = {
        "passport.jpg": specimens.phone_photo(
            specimens.render(specimens.TD3_UKRAINE), angle=2, scale=0.6, jpeg=80
        ),
        "annex.pdf": pdf("Annex"),
        "blank.png": specimens.blank(),
    }
    ids = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        added = await anna("--json", "attach", case_id, str(tmp_path / name))
        assert added.exit_code == 0, added.output
        ids[name] = json.loads(added.stdout)["attachment_id"]

    read = await anna("attachment-mrz", case_id, ids["passport.jpg"])
    assert read.exit_code == 0, read.output
    answer = json.loads(read.stdout)
    assert answer["valid"] is True and answer["fields"]["document_number"] == "FA123456"
    assert answer["suggested"]["evidence"] == {"kind": "passport", "number": "FA123456"}

    not_an_image = await anna("attachment-mrz", case_id, ids["annex.pdf"])
    assert not_an_image.exit_code == 2 and "not an image" in not_an_image.stderr
    blank = await anna("attachment-mrz", case_id, ids["blank.png"])
    assert blank.exit_code == 2 and "No readable MRZ" in blank.stderr
    hans = Terminal(served_api, served_api.token("hans.de", "officer", "DE"))
    hidden = await hans("attachment-mrz", case_id, ids["passport.jpg"])
    assert hidden.exit_code == 1 and "Not found" in hidden.stderr
