"""`readmit case evidence` against the real API over HTTP: an item with its number, dates and MRZ
is added (sealed by the API: `show` gives it back to the case's officer), bad input exits 2
before anything is sent, and a refused command exits 1 with the case's reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from served_api import ServedApi
from test_case_cli import PERSON, Terminal

pytestmark = pytest.mark.temporal

MRZ = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)


async def test_evidence_is_added_through_the_cli(served_api: ServedApi) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    olena = Terminal(served_api, served_api.token("olena.ua", "officer", "UA"))
    known = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    opened = await anna(
        "open", "--agreement", "eu-ua", "--requested", "UA", "--category", "own_national",
        *PERSON, "--evidence", "passport:FA123456", "--knowledge-at", known,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()

    added = await anna(
        "--json", "evidence", case_id, "--kind", "identity_card", "--number", "AB 1234567",
        "--issued-by", "Ministry of Interior", "--issued-on", "2020-03-01",
        "--valid-until", "2030-03-01", "--mrz", MRZ[0], "--mrz", MRZ[1],
        "--description", "photocopy",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert [e["type"] for e in json.loads(added.stdout)["events"]] == ["EvidenceAdded"]

    shown = json.loads((await anna("--json", "show", case_id)).stdout)
    items = [graded["item"] for graded in shown["evidence"]]
    card = next(item for item in items if item["kind"] == "identity_card")
    assert card["number"] == "AB 1234567"
    assert (card["issued_on"], card["valid_until"]) == ("2020-03-01", "2030-03-01")
    assert list(card["mrz"]) == list(MRZ) and card["description"] == "photocopy"

    bad_date = await anna("evidence", case_id, "--kind", "passport", "--issued-on", "1.3.2020")
    assert bad_date.exit_code == 2 and "--issued-on '1.3.2020' is not a date" in bad_date.stderr
    no_kind = await anna("evidence", case_id, "--number", "X1")
    assert no_kind.exit_code == 2 and "--kind" in no_kind.output

    foreign = await olena("evidence", case_id, "--kind", "passport", "--number", "X1")
    assert foreign.exit_code == 1, foreign.output
