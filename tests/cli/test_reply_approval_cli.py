"""`readmit case approve` and `readmit case return-reply --reason` against the real API over
HTTP, on an installation where Ukraine's replies under EU-UA await a supervisor's approval: an
officer's `accept` or `refuse` says it is drafted, `show` shows the draft, a supervisor returns
or approves it; an officer's approval exits 1, a return without reasons exits 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from served_api import ServedApi
from test_case_cli import PERSON, Terminal

pytestmark = pytest.mark.temporal


@pytest.fixture
def approval_policy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """READMIT_REPLY_APPROVAL for the API the test serves (asked for before `served_api`)."""
    monkeypatch.setenv("READMIT_REPLY_APPROVAL", "UA:EU-UA")
    yield


async def test_draft_return_and_approve_through_the_cli(
    approval_policy: None, served_api: ServedApi
) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    olena = Terminal(served_api, served_api.token("olena.ua", "officer", "UA"))
    taras = Terminal(served_api, served_api.token("taras.ua", "supervisor", "UA"))
    known = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    opened = await anna(
        "open", "--agreement", "eu-ua", "--requested", "UA", "--category", "own_national",
        *PERSON, "--evidence", "passport:FA123456", "--knowledge-at", known,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()
    submitted = await anna("submit", case_id)
    assert submitted.exit_code == 0, submitted.output

    drafted = await olena("accept", case_id, "--note", "registry checked")
    assert drafted.exit_code == 0, drafted.output
    assert "ReplyDrafted" in drafted.stdout and "supervisor approves it" in drafted.stdout
    shown = await olena("show", case_id)
    assert "accept drafted by olena.ua" in shown.stdout, shown.stdout

    officer = await olena("approve", case_id)
    assert officer.exit_code == 1 and "Forbidden" in officer.stderr
    no_reason = await taras("return-reply", case_id)
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    back = await taras("return-reply", case_id, "--reason", "cite the registry")
    assert back.exit_code == 0 and "ReplyReturned" in back.stdout, back.output
    nothing = await taras("approve", case_id)
    assert nothing.exit_code == 1 and "no reply awaits approval" in nothing.stderr

    again = await olena("--json", "refuse", case_id, "--reason", "not a national")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["approval"] == "awaiting"
    approved = await taras("--json", "approve", case_id)
    assert approved.exit_code == 0, approved.output
    answer = json.loads(approved.stdout)
    assert answer["events"][0]["type"] == "ApplicationRefused" and answer.get("approval") is None
