"""`readmit simulate` with transit scenarios (`kind: transit`): consent, refusal, silence under
both rules, lead times, a failed transit taken back; and a scenario of an unknown kind."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

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


def report(name: str, database_url: str) -> dict[str, Any]:
    done = simulate(SCENARIOS / name, database_url)
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def types(found: dict[str, Any]) -> list[str]:
    return [e["type"] for e in found["events"]]


def escalations(found: dict[str, Any]) -> list[str]:
    return [
        e["level"]
        for e in found["events"]
        if e["type"] == "DeadlineEscalated" and e["limit"] == "transit_reply"
    ]


def test_consent_schedule_and_completion(database_url: str) -> None:
    found = report("transit-consent.yaml", database_url)
    assert found["status"] == "closed" and all(s["ok"] for s in found["steps"])
    assert types(found)[:4] == [
        "CaseOpened",
        "ApplicationSubmitted",
        "ApplicationDelivered",
        "DeadlineSet",
    ]
    assert found["events"][0]["kind"] == "transit"
    reply = next(e for e in found["events"] if e["type"] == "DeadlineSet")["deadline"]
    assert reply["limit"] == "transit_reply"
    assert datetime.fromisoformat(reply["due"]) == datetime.fromisoformat(
        "2027-02-03T10:00:00+02:00"
    )  # 48 hours before the transit, before the 4th working day
    assert {"TransitConsented", "TransitScheduled", "TransitCompleted"} <= set(types(found))


def test_refusal(database_url: str) -> None:
    found = report("transit-refused.yaml", database_url)
    assert found["status"] == "closed" and all(s["ok"] for s in found["steps"])
    refused = next(e for e in found["events"] if e["type"] == "TransitRefused")
    assert refused["reasons"] == ["the destination's assurance does not name the person"]


def test_silence_is_deemed_consent_72_hours_before_a_weekend_transit(database_url: str) -> None:
    found = report("transit-silence-consent.yaml", database_url)
    assert found["status"] == "deemed_consented"
    deemed = next(e for e in found["events"] if e["type"] == "TransitDeemedConsented")
    due = datetime.fromisoformat("2027-02-06T10:00:00+02:00") - timedelta(hours=72)
    lag = datetime.fromisoformat(deemed["at"]) - due
    assert timedelta(0) < lag < timedelta(seconds=3)
    assert escalations(found)[-1] == "escalation_passed"
    late = found["steps"][-1]
    assert late["ok"] is False and late["error"]["type"] == "WrongStatus"


def test_silence_escalates_where_it_is_not_consent(database_url: str) -> None:
    found = report("transit-silence-escalates.yaml", database_url)
    assert "TransitDeemedConsented" not in types(found)
    assert escalations(found)[-1] == "escalation_passed"
    passed = next(e for e in found["events"] if e.get("level") == "escalation_passed")
    assert datetime.fromisoformat(passed["at"]) > datetime.fromisoformat(
        "2027-02-03T10:00:00+02:00"
    )
    assert found["steps"][-1]["ok"] and found["status"] == "consented"  # late, still taken


def test_a_request_inside_the_lead_time_is_refused(database_url: str) -> None:
    found = report("transit-lead-too-short.yaml", database_url)
    submit = found["steps"][0]
    assert submit["ok"] is False and submit["error"]["type"] == "TransitLeadTooShort"
    assert "2027-02-08" in submit["error"]["message"]
    assert found["status"] == "closed" and "ApplicationSubmitted" not in types(found)
    assert types(found)[-2:] == ["CaseWithdrawn", "CaseClosed"]  # withdrawn, then closed itself


def test_a_failed_transit_is_taken_back(database_url: str) -> None:
    found = report("transit-failed.yaml", database_url)
    oks = [(s["command"], s["ok"]) for s in found["steps"]]
    assert ("close", False) in oks  # not before the person is taken back
    assert found["status"] == "closed"
    assert types(found)[-3:] == ["TransitFailed", "PersonTakenBack", "CaseClosed"]
    failed = next(e for e in found["events"] if e["type"] == "TransitFailed")
    assert failed["entry_refused"] is True


def test_an_unknown_kind_exits_2_naming_the_key(tmp_path: Path, database_url: str) -> None:
    text = (SCENARIOS / "transit-refused.yaml").read_text().replace("kind: transit", "kind: asylum")
    bad = tmp_path / "asylum.yaml"
    bad.write_text(text)
    done = simulate(bad, database_url)
    assert done.returncode == 2
    assert "case.kind" in done.stderr and "Traceback" not in done.stderr
