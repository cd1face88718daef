"""The forms of case actions: each command's fields come from the command catalogue
(api/commands.py), with choices the case's terms offer; a posted form becomes the API's own
request body, so the API's validation messages come back field by field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from api.commands import PRESENTED, Field
from domain.state import CaseState
from domain.values import Person, TransferMode


def fields_for(action: str, state: CaseState) -> list[Field]:
    """The inputs of `action`'s form; choices from the case's terms (border crossing points,
    modes of transfer) filled in, a free text for a border crossing point none is listed for;
    the person's fields (a correction) filled with the person's data if `state` holds it
    opened."""
    return [_with_person(_with_terms(f, state), state) for f in PRESENTED[action].fields]


def _with_person(found: Field, state: CaseState) -> Field:
    if not found.name.startswith("person.") or not isinstance(state.person, Person):
        return found
    value = getattr(state.person, found.name.removeprefix("person."), None)
    if value is None or value == ():
        return found
    if isinstance(value, tuple):
        text = "\n".join(value)
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return replace(found, attrs={**found.attrs, "value": text})


def _with_terms(found: Field, state: CaseState) -> Field:
    terms = state.terms
    if found.from_terms == "bcps":
        bcps = terms.transfer.bcps if terms else ()
        if not bcps:
            return replace(found, kind="text", from_terms=None)
        return replace(found, options=tuple((b, b) for b in bcps))
    if found.from_terms == "modes":
        modes = terms.transfer.modes if terms else tuple(m.value for m in TransferMode)
        return replace(found, options=tuple((m, f"@mode:{m}") for m in modes))
    return found


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
    """The API body of `action` from a posted form (local times in `zone`), read by the kind of
    each of its fields; `FormErrors` with the API's messages."""
    command = PRESENTED[action]
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for found in command.fields:
        value = str(form.get(found.name, "")).strip()
        if found.kind == "textarea":
            if found.name in form:
                data[found.name] = lines(value)
        elif found.kind == "checkbox":
            if form.get(found.name):
                data[found.name] = True
        elif found.kind == "datetime" and value:
            try:
                data[found.name] = local_instant(value, zone)
            except ValueError:
                errors[found.name] = ["enter a date and a time"]
        elif value:
            data[found.name] = value
    try:
        body = command.body.model_validate(nested(data))
    except ValidationError as error:
        for name, messages in validation_messages(error).items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise FormErrors(errors)
    return body


def nested(data: dict[str, Any]) -> dict[str, Any]:
    """Form values under dotted names (`person.surname`) as the nested body they name."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        *parents, last = name.split(".")
        target = out
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return out


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
