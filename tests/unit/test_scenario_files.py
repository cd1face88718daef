"""Scenario files in JSON mean what the same scenario means in YAML, dates included."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from domain.commands import ScheduleTransfer
from readmit.simulate.scenario import ScenarioError, build_command, load_scenario

SCENARIO = {
    "agreement": "EU-UA",
    "case": {
        "requesting": "PL",
        "requested": "UA",
        "person": {"surname": "Shevchenko", "given_names": "Oleksandr", "birth_date": "1990-05-17"},
    },
    "steps": [
        {"at": "2027-09-01T10:00:00+02:00", "command": "submit"},
        {
            "at": "2027-09-10T09:30:00+03:00",
            "command": "schedule_transfer",
            "date": "2027-09-20",
            "bcp": "Medyka–Shehyni",
            "mode": "land",
        },
    ],
    "until": "2027-12-01T00:00:00Z",
}
KYIV_SUMMER = timezone(timedelta(hours=3))


def transfer_on(path: Path) -> datetime:
    scenario = load_scenario(path)
    step = scenario.steps[-1]
    command = build_command(step, step.at)
    assert isinstance(command, ScheduleTransfer)
    return command.on


def test_a_json_transfer_date_is_that_day_at_the_steps_time(tmp_path: Path) -> None:
    path = tmp_path / "transfer.json"
    path.write_text(json.dumps(SCENARIO), encoding="utf-8")
    assert transfer_on(path) == datetime(2027, 9, 20, 9, 30, tzinfo=KYIV_SUMMER)


def test_json_and_yaml_give_the_same_transfer(tmp_path: Path) -> None:
    as_json, as_yaml = tmp_path / "s.json", tmp_path / "s.yaml"
    as_json.write_text(json.dumps(SCENARIO), encoding="utf-8")
    # unquoted in YAML, `2027-09-20` is a date and the instants are datetimes
    text = yaml.safe_dump(SCENARIO).replace("'2027-09-20'", "2027-09-20")
    as_yaml.write_text(text, encoding="utf-8")
    assert isinstance(yaml.safe_load(text)["steps"][1]["date"], date)
    assert transfer_on(as_json) == transfer_on(as_yaml)


@pytest.mark.parametrize("day", ["2027-9-20", "20 September 2027", "2027-09-31"])
def test_a_json_date_that_is_no_iso_day_is_reported(tmp_path: Path, day: str) -> None:
    steps = [SCENARIO["steps"][0], {**SCENARIO["steps"][1], "date": day}]  # type: ignore[index]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**SCENARIO, "steps": steps}), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"steps\.1\.schedule_transfer"):
        load_scenario(path)
