"""`readmit simulate`: scenarios through the real workflow on the time-skipping server."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters.agreements.catalogue import load_catalogue
from domain.deadlines import deadline_for

SCENARIOS = Path(__file__).parent.parent / "fixtures" / "scenarios"
pytestmark = pytest.mark.temporal


def simulate(path: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "readmit.cli.main", "simulate", "--quiet", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url, "HOME": str(Path.home())},
    )


async def test_refusal_in_time(database_url: str) -> None:
    done = simulate(SCENARIOS / "refused.yaml", database_url)
    conn = await asyncpg.connect(database_url)
    try:
        leftovers = await conn.fetchval(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'sim\\_%'"
        )
    finally:
        await conn.close()
    assert leftovers == 0  # the throwaway schema was dropped
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "closed"  # refused, then closed by itself
    assert [s["ok"] for s in report["steps"]] == [True, True, True]
    types = [e["type"] for e in report["events"]]
    assert types[:2] == ["CaseOpened", "ApplicationSubmitted"]  # an own national: no window
    assert "ApplicationRefused" in types and "DeemedAccepted" not in types
    assert types[-1] == "CaseClosed" and report["events"][-1]["outcome"] == "refused"
    assert all(datetime.fromisoformat(e["at"]).utcoffset() is not None for e in report["events"])


def deemed_accepted_from_delivery(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's events, once checked: deemed accepted within 2 s after the reply limit
    counted from the delivery of the application (on submission)."""
    assert report["status"] == "deemed_accepted"
    events: list[dict[str, Any]] = report["events"]
    delivered = next(e for e in events if e["type"] == "ApplicationDelivered")
    submitted = next(e for e in events if e["type"] == "ApplicationSubmitted")
    assert delivered["at"] == submitted["at"]
    terms = load_catalogue().terms("EU-UA", "PL", "UA")
    expected = deadline_for(terms, "reply", datetime.fromisoformat(delivered["at"]))
    deemed = next(e for e in events if e["type"] == "DeemedAccepted")
    lag = (datetime.fromisoformat(deemed["at"]) - expected.due).total_seconds()
    assert 0 < lag < 2
    levels = [
        e["level"] for e in events if e["type"] == "DeadlineEscalated" and e["limit"] == "reply"
    ]
    assert levels == ["reminder_half", "reminder_last_day", "escalation_near", "escalation_passed"]
    return events


def test_submitting_alone_ends_in_deemed_acceptance_from_delivery(database_url: str) -> None:
    done = simulate(SCENARIOS / "submit_only.yaml", database_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [s["command"] for s in report["steps"]] == ["submit"]
    events = deemed_accepted_from_delivery(report)
    assert not any(e["type"] in ("ReceiptAcknowledged", "ReceiptConfirmed") for e in events)


def test_silence_is_deemed_acceptance_at_the_computed_deadline(database_url: str) -> None:
    done = simulate(SCENARIOS / "silence.yaml", database_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    late = report["steps"][-1]
    assert late["ok"] is False and late["error"]["type"] == "WrongStatus"
    events = deemed_accepted_from_delivery(report)  # a late acknowledgement moved nothing
    assert any(e["type"] == "ReceiptAcknowledged" for e in events)
    transfer = [
        e["level"] for e in events if e["type"] == "DeadlineEscalated" and e["limit"] == "transfer"
    ]
    assert transfer[-1] == "escalation_passed"


def test_malformed_scenario_exits_2(tmp_path: Path, database_url: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "agreement: EU-UA\ncase: {requesting: PL}\n"
        "steps: [{at: 2027-01-01T00:00:00Z, command: fly}]\n"
    )
    done = simulate(bad, database_url)
    assert done.returncode == 2
    assert "case.requested" in done.stderr and "Traceback" not in done.stderr


def test_steps_in_the_past_exit_2(tmp_path: Path, database_url: str) -> None:
    text = (SCENARIOS / "refused.yaml").read_text().replace("2027-", "2020-")
    past = tmp_path / "past.yaml"
    past.write_text(text)
    done = simulate(past, database_url)
    assert done.returncode == 2
    assert "lies in the past" in done.stderr


def test_readmission_in_error_claim_answer_return_closed(database_url: str) -> None:
    """Readmission in error: claim → answer → return → closed, each limit from the agreement."""
    done = simulate(SCENARIOS / "readmission_in_error.yaml", database_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert all(step["ok"] for step in report["steps"]), report["steps"]
    assert report["status"] == "closed"
    events = report["events"]
    types = [e["type"] for e in events]
    steps = ["ErrorClaimed", "ErrorClaimAccepted", "ReturnScheduled", "ReturnCompleted"]
    assert [t for t in types if t in steps] == steps
    assert types[-1] == "CaseClosed" and events[-1]["outcome"] == "returned_in_error"
    limits = [e["deadline"]["limit"] for e in events if e["type"] == "DeadlineSet"]
    assert limits[-2:] == ["error_answer", "error_return"]
    terms = load_catalogue().terms("EU-UA", "PL", "UA", "PL")
    claimed = next(e for e in events if e["type"] == "ErrorClaimed")
    answer = next(
        e["deadline"]
        for e in events
        if e["type"] == "DeadlineSet" and e["deadline"]["limit"] == "error_answer"
    )
    expected = deadline_for(terms, "error_answer", datetime.fromisoformat(claimed["at"]))
    assert datetime.fromisoformat(answer["due"]) == expected.due
    # the answer came before half its limit: no reminder of it; the clock closed the case
    assert not any(
        e["type"] == "DeadlineEscalated" and e["limit"] == "error_answer" for e in events
    )


def test_a_scenario_with_an_unknown_command_or_key_exits_2_naming_it(
    tmp_path: Path, database_url: str
) -> None:
    text = (SCENARIOS / "readmission_in_error.yaml").read_text()
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(text.replace("command: accept_error_claim", "command: accept_claim"))
    done = simulate(unknown, database_url)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "steps.5.command" in done.stderr and "'accept_claim'" in done.stderr
    extra = tmp_path / "extra.yaml"
    extra.write_text(text.replace("note: ", "accepted: true, note: "))
    done = simulate(extra, database_url)
    assert done.returncode == 2 and "steps.5.accept_error_claim.accepted" in done.stderr


def test_a_transfer_notice_left_unanswered_is_deemed_confirmed(database_url: str) -> None:
    done = simulate(SCENARIOS / "transfer_notice_silence.yaml", database_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [s["ok"] for s in report["steps"]] == [True, True, True, True], report["steps"]
    events = report["events"]
    notice = next(e for e in events if e["type"] == "TransferScheduled")
    terms = load_catalogue().terms("EU-UA", "AT", "UA")
    expected = deadline_for(terms, "transfer_notice_reply", datetime.fromisoformat(notice["at"]))
    confirmed = next(e for e in events if e["type"] == "TransferConfirmed")
    assert confirmed["deemed"] is True
    lag = (datetime.fromisoformat(confirmed["at"]) - expected.due).total_seconds()
    assert 0 < lag < 2
    types = [e["type"] for e in events]
    assert types.index("TransferConfirmed") < types.index("TransferCompleted")
    assert report["status"] == "transferred"


@pytest.mark.parametrize(
    # a lapsed case closes by itself: nothing more can happen to it
    ("category", "status"),
    [("stateless", "closed"), ("own_national", "received")],
)
def test_the_submission_window_binds_a_stateless_person_not_an_own_national(
    tmp_path: Path, database_url: str, category: str, status: str
) -> None:
    """Knowledge of the stay dates from 10 Jan 2026: the 1-year window of EU-UA ends on
    10 Jan 2027, between opening (4 Jan) and submitting (12 Jan)."""
    text = (
        (SCENARIOS / "window.yaml")
        .read_text()
        .replace("category: stateless", f"category: {category}")
    )
    scenario = tmp_path / f"{category}.yaml"
    scenario.write_text(text)
    done = simulate(scenario, database_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == status
    windows = [
        e["deadline"]
        for e in report["events"]
        if e["type"] == "DeadlineSet" and e["deadline"]["limit"] == "submission"
    ]
    submit = report["steps"][-1]
    if category == "own_national":
        assert windows == [] and submit["ok"], submit
        return
    assert [w["due"] for w in windows] == ["2027-01-10T23:59:59+01:00"]
    assert "third-country national or stateless person" in windows[0]["source"]
    lapsed = [e for e in report["events"] if e["type"] == "LimitLapsed"]
    assert [e["limit"] for e in lapsed] == ["submission"]
    assert report["events"][-1]["type"] == "CaseClosed"
    assert report["events"][-1]["outcome"] == "lapsed"
    assert submit["ok"] is False and submit["error"]["type"] == "CaseClosedError"
