"""`readmit case acknowledge` against the real API over HTTP: with nothing escalated a
supervisor is refused (exit 1, the case's reason); once the reply limit is escalated to UA's
supervisors, one of them acknowledges it (JSON: the `EscalationAcknowledged` event); an
officer is refused (exit 1)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from served_api import ServedApi
from test_case_cli import PERSON, Terminal

from adapters.temporal.clock import advance_to

pytestmark = pytest.mark.temporal


async def test_acknowledge_through_the_cli(served_api: ServedApi) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    olena = Terminal(served_api, served_api.token("olena.ua", "officer", "UA"))
    taras = Terminal(served_api, served_api.token("taras.ua", "supervisor", "UA"))
    known = (await served_api.env.get_current_time() - timedelta(days=2)).isoformat()
    opened = await anna(
        "open", "--agreement", "eu-ua", "--requested", "UA", "--category", "own_national",
        *PERSON, "--evidence", "passport:FA123456", "--knowledge-at", known,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()
    assert (await anna("submit", case_id)).exit_code == 0

    nothing = await taras("acknowledge", case_id)
    assert nothing.exit_code == 1 and "no escalation of the requested side" in nothing.stderr
    shown = json.loads((await taras("--json", "show", case_id)).stdout)
    due = datetime.fromisoformat(shown["deadlines"]["reply"]["due"])
    await advance_to(served_api.env, due - timedelta(hours=6))

    officer = await olena("acknowledge", case_id)
    assert officer.exit_code == 1 and "supervisor" in officer.stderr
    done = await taras("--json", "acknowledge", case_id)
    assert done.exit_code == 0, done.output
    assert [e["type"] for e in json.loads(done.stdout)["events"]] == ["EscalationAcknowledged"]
