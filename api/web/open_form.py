"""The "open a case" form: the choices the catalogue offers the caller's state, and the posted
form turned into the API's `OpenCaseBody` (nested names such as `person.surname`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from adapters.agreements.catalogue import Catalogue
from api.command_bodies import OpenCaseBody
from api.commands import Field
from api.web.forms import FormErrors, local_instant, validation_messages
from api.web.i18n import N_
from domain.agreements import Category
from domain.terms import party_states

EVIDENCE_ROWS = 3
PERSON_FIELDS = (
    "surname",
    "given_names",
    "birth_date",
    "birth_place",
    "sex",
    "nationality",
    "personal_number",
)
INSTANTS = ("knowledge_at", "apprehended_at")


@dataclass(frozen=True)
class Choices:
    agreements: list[tuple[str, str]]  # (id, title)
    requested: list[str]
    protocols: list[str]
    evidence_kinds: list[str]


def choices(catalogue: Catalogue, state: str) -> Choices:
    """Agreements binding `state`, the states it may ask under them, protocols, evidence kinds."""
    agreements: list[tuple[str, str]] = []
    requested: set[str] = set()
    protocols: set[str] = set()
    kinds: set[str] = set()
    for agreement in catalogue.list_agreements():
        sides = [party_states(agreement, party) for party in agreement.parties]
        if not any(state in side for side in sides):
            continue
        agreements.append((agreement.id, agreement.title))
        for index, side in enumerate(sides):
            if state in side:
                requested |= sides[1 - index]
        protocols |= {p.state for p in catalogue.protocols_of(agreement.id)}
        grades = agreement.evidence
        for group in (
            grades.proof_of_nationality,
            grades.prima_facie_nationality,
            grades.proof_tcn,
            grades.prima_facie_tcn,
            grades.proof_stateless or (),
            grades.prima_facie_stateless or (),
        ):
            kinds |= set(group)
    return Choices(agreements, sorted(requested), sorted(protocols), sorted(kinds))


def open_sections(c: Choices) -> list[tuple[str, list[Field]]]:
    """The form's fieldsets (legend, fields), in the API's own field names."""
    evidence = []
    for row in range(EVIDENCE_ROWS):
        evidence += [
            Field(
                f"evidence.{row}.kind",
                N_("Kind of document"),
                attrs={"list": "evidence-kinds", "autocomplete": "off"},
                hint=N_("e.g. passport, identity_card, birth_certificate"),
            ),
            Field(f"evidence.{row}.number", N_("Number")),
        ]
    return [
        (
            N_("Agreement"),
            [
                Field(
                    "agreement",
                    N_("Agreement"),
                    "select",
                    required=True,
                    options=tuple((code, f"{code} — {title}") for code, title in c.agreements),
                ),
                Field(
                    "requested",
                    N_("Requested state"),
                    "select",
                    required=True,
                    options=tuple((s, s) for s in c.requested),
                ),
                Field(
                    "protocol",
                    N_("Implementing protocol"),
                    "select",
                    options=tuple((s, s) for s in c.protocols),
                    hint=N_("Leave empty for the protocol of the Member State, if there is one."),
                ),
                Field(
                    "category",
                    N_("Category"),
                    "select",
                    required=True,
                    options=tuple((c.value, f"@category:{c.value}") for c in Category),
                ),
                Field(
                    "procedure",
                    N_("Procedure"),
                    "select",
                    required=True,
                    options=(
                        ("standard", "@procedure:standard"),
                        ("accelerated", "@procedure:accelerated"),
                    ),
                ),
            ],
        ),
        (
            N_("Person"),
            [
                Field("person.surname", N_("Surname"), required=True),
                Field("person.given_names", N_("Given names"), required=True),
                Field("person.birth_date", N_("Date of birth"), "date", required=True),
                Field("person.birth_place", N_("Place of birth")),
                Field(
                    "person.sex",
                    N_("Sex"),
                    "select",
                    options=(("F", "F"), ("M", "M"), ("X", "X")),
                ),
                Field(
                    "person.nationality",
                    N_("Nationality"),
                    hint=N_("ISO code, e.g. UA"),
                    attrs={"maxlength": "3", "size": "4"},
                ),
                Field("person.personal_number", N_("Personal number")),
            ],
        ),
        (N_("Evidence"), evidence),
        (
            N_("Dates and place"),
            [
                Field(
                    "knowledge_at",
                    N_("Knowledge of the irregular stay"),
                    "datetime",
                    hint=N_("Your local time (%(zone)s)."),
                ),
                Field(
                    "apprehended_at",
                    N_("Apprehension (accelerated procedure)"),
                    "datetime",
                    hint=N_("Your local time (%(zone)s)."),
                ),
                Field(
                    "apprehension_place.kind",
                    N_("Place of apprehension"),
                    "select",
                    options=tuple(
                        (k, f"@place:{k}")
                        for k in ("land_border", "sea_port", "international_airport", "inland")
                    ),
                ),
                Field("apprehension_place.name", N_("Name of the place")),
                Field(
                    "apprehension_place.km_from_border",
                    N_("Kilometres from the border"),
                    "number",
                    attrs={"min": "0", "step": "0.1"},
                ),
            ],
        ),
    ]


def form_names() -> list[str]:
    names = ["agreement", "protocol", "requested", "category", "procedure"]
    names += [f"person.{name}" for name in PERSON_FIELDS]
    for row in range(EVIDENCE_ROWS):
        names += [f"evidence.{row}.kind", f"evidence.{row}.number"]
    names += [*INSTANTS, "apprehension_place.kind", "apprehension_place.name"]
    return [*names, "apprehension_place.km_from_border"]


def open_body(form: Mapping[str, Any], zone: str) -> OpenCaseBody:
    """`OpenCaseBody` from the posted form (instants in `zone`), or `FormErrors`."""

    def value(name: str) -> str:
        return str(form.get(name, "")).strip()

    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {
        key: value(key)
        for key in ("agreement", "protocol", "requested", "category", "procedure")
        if value(key)
    }
    data["agreement"] = data.get("agreement", "").upper() or None
    person = {name: value(f"person.{name}") for name in PERSON_FIELDS if value(f"person.{name}")}
    data["person"] = person
    evidence, rows = [], []
    for row in range(EVIDENCE_ROWS):
        kind, number = value(f"evidence.{row}.kind"), value(f"evidence.{row}.number")
        if kind or number:
            evidence.append({"kind": kind, **({"number": number} if number else {})})
            rows.append(row)
    data["evidence"] = evidence
    for name in INSTANTS:
        if value(name):
            try:
                data[name] = local_instant(value(name), zone)
            except ValueError:
                errors[name] = ["enter a date and a time"]
    place = {
        key: value(f"apprehension_place.{key}")
        for key in ("kind", "name", "km_from_border")
        if value(f"apprehension_place.{key}")
    }
    if place:
        data["apprehension_place"] = place
    try:
        body = OpenCaseBody.model_validate(data)
    except ValidationError as error:
        for name, messages in validation_messages(error).items():
            errors.setdefault(_form_row(name, rows), []).extend(messages)
    if errors:
        raise FormErrors(errors)
    return body


def _form_row(name: str, rows: list[int]) -> str:
    """'evidence.0.kind' of the body is the form's first non-empty evidence row."""
    parts = name.split(".")
    if (
        len(parts) > 1
        and parts[0] == "evidence"
        and parts[1].isdigit()
        and int(parts[1]) < len(rows)
    ):
        parts[1] = str(rows[int(parts[1])])
    return ".".join(parts)
