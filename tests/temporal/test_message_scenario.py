"""`readmit simulate` with messages: a scenario's steps may be messages between the two states,
each sent by the side it names, its text sealed on the way in and shown opened in the report."""

from __future__ import annotations

import json

import pytest
from test_simulator import SCENARIOS, simulate

pytestmark = pytest.mark.temporal


def test_a_conversation_runs_in_the_simulator(database_url: str) -> None:
    done = simulate(SCENARIOS / "messages.yaml", database_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [s["ok"] for s in report["steps"]] == [True, True, True, True], report["steps"]
    sent = [e for e in report["events"] if e["type"] == "CaseMessageSent"]
    assert [(m["side"], m["kind"]) for m in sent] == [
        ("requested", "request_interview"),
        ("requesting", "answer"),
    ]
    assert sent[1]["answers"] == sent[0]["message_id"]
    assert sent[1]["text"] == "Friday 10:00 at Medyka, with an interpreter"
    assert report["status"] == "closed"  # refused, then closed by itself
