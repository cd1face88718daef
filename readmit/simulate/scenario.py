"""Scenario files for the what-if simulator: a case, the steps officers take, and a horizon.

Step commands are the decider's commands in snake_case with their fields, as the command
catalogue (`domain.commands.CATALOGUE`) names them; each step is turned into the real command
model, so a malformed scenario is reported before anything runs.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from domain.agreements import Category
from domain.commands import BY_NAME, CATALOGUE, Command
from domain.transit_request import TransitRequest
from domain.values import (
    ApprehensionPlace,
    CaseKind,
    EvidenceItem,
    Person,
    Procedure,
    Side,
)

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# what officers do to an open case: every command of the catalogue but opening, the clock's and
# a node's own (`local`: who works on the case, not what happens to it), and adding a file (an
# upload, not a step's fields)
STEP_COMMANDS = tuple(
    kind.name
    for kind in CATALOGUE
    if kind.side is not Side.SYSTEM
    and not kind.local
    and kind.name not in ("open_case", "add_attachment")
)


class ScenarioError(ValueError):
    """A scenario that cannot be run, with every reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioCase(_Strict):
    requesting: str = Field(pattern=r"^[A-Z]{2}$")
    requested: str = Field(pattern=r"^[A-Z]{2}$")
    procedure: Procedure = Procedure.STANDARD
    category: Category = Category.OWN_NATIONAL
    knowledge_at: AwareDatetime | None = None
    apprehended_at: AwareDatetime | None = None
    apprehension_place: ApprehensionPlace | None = None
    person: Person
    evidence: tuple[EvidenceItem, ...] = ()
    # `kind: transit` with its `transit` request (docs/transit.md)
    kind: CaseKind = CaseKind.READMISSION
    transit: TransitRequest | None = None


class Step(BaseModel):
    """One step: `at`, `command`, and that command's own fields."""

    model_config = ConfigDict(extra="allow", frozen=True)

    at: AwareDatetime
    command: str

    @field_validator("command")
    @classmethod
    def _known(cls, command: str) -> str:
        if command not in STEP_COMMANDS:
            raise ValueError(
                f"unknown command {command!r}; steps may use: {', '.join(STEP_COMMANDS)}"
            )
        return command

    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Scenario(_Strict):
    agreement: str | None = None
    agreement_file: Path | None = None
    protocol: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    case: ScenarioCase
    steps: tuple[Step, ...] = ()
    until: AwareDatetime

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if (self.agreement is None) == (self.agreement_file is None):
            raise ValueError("give exactly one of 'agreement' and 'agreement_file'")
        instants = [s.at for s in self.steps]
        if instants != sorted(instants):
            raise ValueError("steps must be in chronological order")
        if instants and self.until < instants[-1]:
            raise ValueError("'until' lies before the last step")
        return self

    def check_future(self, now: datetime) -> None:
        """The test server's clock starts at the present and only moves forward."""
        first = self.steps[0].at if self.steps else self.until
        if first <= now:
            raise ScenarioError(
                f"the first step ({first.isoformat()}) lies in the past; the simulator's clock "
                f"starts at the present ({now.isoformat(timespec='seconds')}): move the scenario "
                "into the future"
            )


def transfer_day(value: Any) -> Any:
    """A `date` as the scenario gives it: YAML parses `2027-09-20` into a date, JSON has no date
    type and gives the same text as a string; both mean that day. Anything else is left to the
    command's own validation (an instant with its offset is also accepted)."""
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass  # no such day (2027-09-31): reported by the command's validation
    return value


# steps that plan a crossing may give its `date` (the day, at the step's time) instead of `on`
DATED_STEPS = ("schedule_transfer", "schedule_return")


def build_command(step: Step, at: datetime) -> Command:
    """The decider command for a step (field `date` of schedule_transfer or schedule_return is
    the crossing's day, at the step's own time of day and offset)."""
    fields = step.fields()
    if step.command in DATED_STEPS and "date" in fields:
        value = transfer_day(fields.pop("date"))
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, step.at.timetz())
        fields["on"] = value
    if step.command == "send_case_message" and "message_id" not in fields:
        # a message step need not name its message: one id per step, the same on every run
        fields["message_id"] = uuid5(NAMESPACE_URL, f"readmit-scenario:{step.at.isoformat()}")
    return BY_NAME[step.command].build(at, fields)


def load_scenario(path: Path) -> Scenario:
    """Parse a YAML or JSON scenario; every problem is reported in one `ScenarioError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"cannot read {path}: {error.strerror}") from error
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path}: not valid YAML/JSON: {error}") from error
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: a scenario is a mapping with 'case', 'steps' and 'until'")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        raise ScenarioError(f"{path}: " + "; ".join(_problems(error))) from error
    if scenario.agreement_file is not None and not scenario.agreement_file.is_absolute():
        beside = path.parent / scenario.agreement_file
        if beside.exists() and not scenario.agreement_file.exists():
            # a file named relative to the scenario's own folder
            scenario = scenario.model_copy(update={"agreement_file": beside})
    problems: list[str] = []
    for index, step in enumerate(scenario.steps):
        try:
            build_command(step, step.at)
        except ValidationError as error:
            problems += _problems(error, f"steps.{index}.{step.command}")
    if problems:
        raise ScenarioError(f"{path}: " + "; ".join(problems))
    return scenario


def _problems(error: ValidationError, prefix: str = "") -> list[str]:
    found = []
    for item in error.errors():
        parts = list(item["loc"])
        if prefix and parts and str(parts[0]) == prefix.rsplit(".", 1)[-1]:
            parts = parts[1:]  # the command's name again, as the union of commands tags it
        loc = ".".join(str(p) for p in (prefix, *parts) if p != "")
        found.append(f"{loc or '(top)'}: {item['msg']}")
    return found
