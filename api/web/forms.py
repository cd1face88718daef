"""The forms of case actions: which fields each command's form has, and how a posted form becomes
the API's own request body (so the API's validation messages come back field by field)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from api.routes.cases import COMMANDS
from api.web.i18n import N_
from domain.state import CaseState
from domain.values import VerificationStatus

BODIES: dict[str, type[BaseModel]] = {name: body for _, name, body, _, _ in COMMANDS}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | textarea | number | select | datetime | checkbox
    required: bool = False
    # (value, label): a label "@table:code" is a domain word (see labels.py), else shown as is
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    attrs: Mapping[str, str] = field(default_factory=dict)


REASONS = Field(
    "reasons",
    N_("Reasons"),
    "textarea",
    required=True,
    hint=N_("One reason per line."),
)


def fields_for(action: str, state: CaseState) -> list[Field]:
    """The inputs of `action`'s form (transfer options come from the case's terms)."""
    terms = state.terms
    match action:
        case "extend_reply" | "refuse" | "claim_error" | "withdraw":
            return [REASONS]
        case "accept":
            return [Field("note", N_("Note (optional)"), attrs={"maxlength": "200"})]
        case "record_verification":
            return [
                Field(
                    "status",
                    N_("Outcome"),
                    "select",
                    required=True,
                    options=tuple(
                        (s.value, f"@verification:{s.value}") for s in VerificationStatus
                    ),
                ),
                Field(
                    "score",
                    N_("Score (0 to 1)"),
                    "number",
                    required=True,
                    attrs={"min": "0", "max": "1", "step": "0.001"},
                ),
                Field("reasons", N_("Reasons"), "textarea", hint=N_("One reason per line.")),
                Field("interview_needed", N_("A consular interview is needed"), "checkbox"),
            ]
        case "schedule_transfer":
            bcps = terms.transfer.bcps if terms else ()
            modes = terms.transfer.modes if terms else ("air", "land", "sea")
            bcp = (
                Field(
                    "bcp",
                    N_("Border crossing point"),
                    "select",
                    required=True,
                    options=tuple((b, b) for b in bcps),
                )
                if bcps
                else Field("bcp", N_("Border crossing point"), required=True)
            )
            return [
                Field(
                    "on",
                    N_("Date and time of the transfer"),
                    "datetime",
                    required=True,
                    hint=N_("Local time of the requesting state (%(zone)s)."),
                ),
                bcp,
                Field(
                    "mode",
                    N_("Mode"),
                    "select",
                    required=True,
                    options=tuple((m, f"@mode:{m}") for m in modes),
                ),
                Field("escorts", N_("Escorts"), "number", attrs={"min": "0", "max": "20"}),
            ]
        case "extend_transfer":
            return [
                Field(
                    "days",
                    N_("Days"),
                    "number",
                    required=True,
                    attrs={"min": "1", "max": "365"},
                ),
                REASONS,
            ]
        case _:
            return []


class FormErrors(Exception):
    """Field-by-field messages (field name -> messages), "" for the form as a whole."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def local_instant(text: str, zone: str) -> datetime:
    """A `datetime-local` value ('2026-11-30T10:00') as an instant in `zone`."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def raw_values(form: Mapping[str, Any], names: list[str]) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in names if form.get(name) not in (None, "")}


def action_body(action: str, form: Mapping[str, Any], zone: str) -> BaseModel:
    """The API body of `action` from a posted form; `FormErrors` with the API's messages."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in ("note", "status", "score", "bcp", "mode", "escorts", "days"):
        value = str(form.get(name, "")).strip()
        if value:
            data[name] = value
    if "reasons" in form:
        data["reasons"] = lines(str(form.get("reasons", "")))
    if form.get("interview_needed"):
        data["interview_needed"] = True
    if when := str(form.get("on", "")).strip():
        try:
            data["on"] = local_instant(when, zone)
        except ValueError:
            errors["on"] = ["enter a date and a time"]
    body_type = BODIES[action]
    try:
        body = body_type.model_validate(data)
    except ValidationError as error:
        for name, messages in validation_messages(error).items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise FormErrors(errors)
    return body


def validation_messages(error: ValidationError) -> dict[str, list[str]]:
    """Pydantic's messages keyed by the form field's name ('person.surname', 'evidence.0.kind')."""
    found: dict[str, list[str]] = {}
    for item in error.errors():
        location = [str(p) for p in item.get("loc", ()) if p != "body"]
        if len(location) > 1 and location[-1].isdigit():
            location = location[:-1]  # one line of a list (a reason): the list's field
        name = ".".join(location)
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        found.setdefault(name, []).append(message)
    return found
