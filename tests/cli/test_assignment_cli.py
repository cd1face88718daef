"""`readmit case claim|release|assign --officer` and `readmit case list --assigned` against the
real API over HTTP: an officer claims and releases, a supervisor assigns, a refusal exits 1 with
the case's reason, bad input exits 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from served_api import ServedApi
from test_case_cli import PERSON, Terminal

pytestmark = pytest.mark.temporal


async def test_claim_release_and_assign_through_the_cli(
    served_api: ServedApi, pool: asyncpg.Pool
) -> None:
    await pool.executemany(
        "INSERT INTO officers (user_id, state, role, display_name) VALUES ($1, $2, $3, $1)",
        [
            ("anna.pl", "PL", "officer"),
            ("marek.pl", "PL", "officer"),
            ("olena.ua", "UA", "officer"),
        ],
    )
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    marek = Terminal(served_api, served_api.token("marek.pl", "officer", "PL"))
    piotr = Terminal(served_api, served_api.token("piotr.pl", "supervisor", "PL"))
    known = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    opened = await anna(
        "open", "--agreement", "eu-ua", "--requested", "UA", "--category", "own_national",
        *PERSON, "--evidence", "passport:FA123456", "--knowledge-at", known,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()

    claimed = await anna("claim", case_id)
    assert claimed.exit_code == 0, claimed.output
    assert claimed.stdout.startswith(f"{case_id}: draft") and "CaseAssigned" in claimed.stdout
    taken = await marek("claim", case_id)
    assert taken.exit_code == 1 and "assigned to anna.pl: a supervisor reassigns" in taken.stderr
    mine = await anna("--json", "list", "--assigned", "me")
    assert [item["case_id"] for item in json.loads(mine.stdout)] == [case_id]

    not_officers = await anna("assign", case_id, "--officer", "marek.pl")
    assert not_officers.exit_code == 1 and "Forbidden" in not_officers.stderr
    foreign = await piotr("assign", case_id, "--officer", "olena.ua")
    assert foreign.exit_code == 2 and "olena.ua is not an officer of PL" in foreign.stderr
    missing = await piotr("assign", case_id)
    assert missing.exit_code == 2 and "--officer" in missing.output
    assigned = await piotr("assign", case_id, "--officer", "marek.pl")
    assert assigned.exit_code == 0 and "CaseAssigned" in assigned.stdout
    shown = await piotr("--json", "show", case_id)
    assert json.loads(shown.stdout)["assignees"] == {"requesting": "marek.pl", "requested": None}
    text = await piotr("show", case_id)
    assert "assigned:  PL marek.pl; UA -" in text.stdout

    released = await marek("release", case_id)
    assert released.exit_code == 0 and "CaseAssigned" in released.stdout
    unassigned = await anna("--json", "list", "--assigned", "unassigned")
    assert case_id in [item["case_id"] for item in json.loads(unassigned.stdout)]
