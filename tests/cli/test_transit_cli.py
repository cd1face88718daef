"""`readmit case` with a transit case: opened with its request, refused inside the lead time
with the rule printed, then walked to the person taken back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from served_api import ServedApi
from test_case_cli import Terminal

pytestmark = pytest.mark.temporal

PERSON = ["--surname", "Beridze", "--given-names", "Nino", "--birth-date", "1991-03-02"]


def open_args(planned: datetime) -> list[str]:
    return [
        "open",
        *("--agreement", "eu-md", "--requested", "MD", "--category", "third_country_national"),
        *PERSON,
        *("--kind", "transit", "--destination", "ge", "--assurance", "GE-MIA-2027/118:2026-01-05"),
        *("--planned-at", planned.isoformat()),
        *("--entry-point", "Chișinău International Airport"),
        *("--exit-point", "Chișinău International Airport"),
        *("--escorts", "2", "--flight", "9U 171"),
    ]


async def test_a_transit_case_through_the_cli(served_api: ServedApi) -> None:
    anna = Terminal(served_api, served_api.token("anna.at", "officer", "AT"))
    maria = Terminal(served_api, served_api.token("maria.md", "officer", "MD"))
    now = datetime.now(UTC)

    early = await anna(*open_args(now + timedelta(days=1)))
    assert early.exit_code == 0, early.output
    refused = await anna("submit", early.stdout.strip())
    assert refused.exit_code == 2 and "[TransitLeadTooShort]" in refused.stderr
    assert "rule: a transit is requested at least 4 working days before" in refused.stderr

    missing = await anna("open", "--agreement", "eu-md", "--requested", "MD", "--kind", "transit")
    assert missing.exit_code == 2 and "--destination" in missing.stderr

    opened = await anna(*open_args(now + timedelta(days=14)))
    case_id = opened.stdout.strip()
    assert (await anna("submit", case_id)).exit_code == 0
    listed = json.loads((await anna("--json", "list", "--kind", "transit")).stdout)
    assert {item["case_id"] for item in listed} == {early.stdout.strip(), case_id}
    # the requested state sees the submitted request only, not the other draft
    seen = json.loads((await maria("--json", "list", "--kind", "transit")).stdout)
    assert [item["case_id"] for item in seen] == [case_id]
    shown = await maria("show", case_id)
    assert "transit:   to GE (GE-MIA-2027/118 of 2026-01-05)" in shown.stdout
    assert "flight 9U 171" in shown.stdout and "transit-consent" in shown.stdout
    wrong = await maria("accept", case_id)
    assert wrong.exit_code == 1 and "[WrongCaseKind]" in wrong.stderr
    assert (await maria("transit-consent", case_id, "--note", "agreed")).exit_code == 0
    on = (now + timedelta(days=15)).isoformat()
    scheduled = await anna(
        "transit-schedule",
        case_id,
        *("--on", on, "--entry-point", "KIV", "--exit-point", "KIV", "--flight-number", "9U 171"),
    )
    assert scheduled.exit_code == 0, scheduled.output
    await served_api.env.sleep(15 * 86400 + 3600)
    assert (await maria("transit-complete", case_id)).exit_code == 0
    failed = await maria(
        "transit-failure", case_id, "--reason", "GE refused entry", "--entry-refused"
    )
    assert failed.exit_code == 0, failed.output
    assert (await anna("take-back", case_id)).exit_code == 0
    shown = await anna("show", case_id)
    assert "FAILED (entry refused): GE refused entry" in shown.stdout
    assert "taken back" in shown.stdout
