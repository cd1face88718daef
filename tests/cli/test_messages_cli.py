"""`readmit case message send` and `readmit case messages` against the real API over HTTP: the
requested state asks, the requesting state answers, both read the conversation (text or JSON);
a message the case refuses exits 1 with its reason, bad input exits 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from served_api import ServedApi
from test_case_cli import PERSON, Terminal

pytestmark = pytest.mark.temporal

ASK = "Please send the birth certificate"
ANSWER = "It follows by courier"


async def test_send_and_read_messages_through_the_cli(served_api: ServedApi) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    olena = Terminal(served_api, served_api.token("olena.ua", "officer", "UA"))
    known = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    opened = await anna(
        "open", "--agreement", "eu-ua", "--requested", "UA", "--category", "own_national",
        *PERSON, "--evidence", "passport:FA123456", "--knowledge-at", known,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()

    draft = await anna("message", "send", case_id, "--kind", "note", "--text", "too early")
    assert draft.exit_code == 1 and "submitted" in draft.stderr  # a draft has no other side
    assert (await anna("submit", case_id)).exit_code == 0

    asked = await olena(
        "--json", "message", "send", case_id, "--kind", "request_information", "--text", ASK
    )
    assert asked.exit_code == 0, asked.output
    request_id = json.loads(asked.stdout)["message_id"]
    answered = await anna(
        "message", "send", case_id, "--kind", "answer", "--text", ANSWER, "--answers", request_id
    )
    assert answered.exit_code == 0, answered.output
    assert len(answered.stdout.strip()) == 36  # the new message's id

    listed = await anna("--json", "messages", case_id)
    assert listed.exit_code == 0, listed.output
    messages = json.loads(listed.stdout)["messages"]
    assert [(m["kind"], m["author"]["user_id"], m["text"]) for m in messages] == [
        ("request_information", "olena.ua", ASK),
        ("answer", "anna.pl", ANSWER),
    ]
    text = await olena("messages", case_id)
    assert text.exit_code == 0 and ASK in text.stdout and "anna.pl" in text.stdout
    assert "answered" in text.stdout

    wrong_side = await anna(
        "message", "send", case_id, "--kind", "request_interview", "--text", "x"
    )
    assert wrong_side.exit_code == 1 and "MessageNotAllowed" in wrong_side.stderr
    empty = await anna("message", "send", case_id, "--kind", "note", "--text", "  ")
    assert empty.exit_code == 2 and "--text" in empty.stderr
    bad_id = await anna(
        "message", "send", case_id, "--kind", "answer", "--text", "x", "--answers", "7"
    )
    assert bad_id.exit_code == 2 and "not a message id" in bad_id.stderr
    bad_kind = await anna("message", "send", case_id, "--kind", "gossip", "--text", "x")
    assert bad_kind.exit_code == 2
