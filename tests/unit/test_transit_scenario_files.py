"""Transit scenario files: `kind: transit` with its request; an unknown kind names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.commands import ScheduleTransit
from domain.values import CaseKind
from readmit.simulate.scenario import ScenarioError, build_command, load_scenario

SCENARIOS = Path(__file__).parents[1] / "fixtures" / "scenarios"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("transit-*.yaml")), ids=lambda p: p.name)
def test_every_transit_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.case.kind is CaseKind.TRANSIT and scenario.case.transit is not None


def test_a_schedule_step_gives_its_instant() -> None:
    scenario = load_scenario(SCENARIOS / "transit-consent.yaml")
    step = next(s for s in scenario.steps if s.command == "schedule_transit")
    command = build_command(step, step.at)
    assert isinstance(command, ScheduleTransit) and command.flight is not None
    assert command.on.isoformat() == "2027-02-05T10:00:00+02:00"


def test_an_agreement_file_is_found_beside_the_scenario() -> None:
    scenario = load_scenario(SCENARIOS / "transit-silence-consent.yaml")
    assert scenario.agreement_file is not None and scenario.agreement_file.exists()


def test_an_unknown_kind_names_the_key(tmp_path: Path) -> None:
    text = (SCENARIOS / "transit-refused.yaml").read_text().replace("kind: transit", "kind: x")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(ScenarioError, match=r"case\.kind: Input should be 'readmission' or"):
        load_scenario(bad)
