"""The "open a case" form: the choices the catalogue offers the caller's state, and the posted
form turned into the API's `OpenCaseBody` (nested names such as `person.surname`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from adapters.agreements.catalogue import Catalogue
from api.command_bodies import OpenCaseBody
from api.commands import Field
from api.web.forms import FormErrors, local_instant, nested, validation_messages
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
# a transit case's request (docs/transit.md): `transit.<name>` in the form
TRANSIT_FIELDS = (
    "destination",
    "assurance.reference",
    "assurance.given_on",
    "planned_at",
    "entry_point",
    "exit_point",
    "escorts",
    "flight.number",
)


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
                    "kind",
                    N_("Kind of case"),
                    "select",
                    required=True,
                    options=(("readmission", "@kind:readmission"), ("transit", "@kind:transit")),
                    hint=N_("A transit asks the requested state to let the person pass through."),
                ),
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
        (N_("Transit (transit cases only)"), transit_fields()),
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


def transit_fields() -> list[Field]:
    return [
        Field(
            "transit.destination",
            N_("Destination state"),
            hint=N_("ISO code, e.g. GE"),
            attrs={"maxlength": "2", "size": "3"},
        ),
        Field("transit.assurance.reference", N_("Destination's assurance of admission")),
        Field("transit.assurance.given_on", N_("Date of the assurance"), "date"),
        Field(
            "transit.planned_at",
            N_("Planned transit"),
            "datetime",
            hint=N_("Your local time (%(zone)s)."),
        ),
        Field("transit.entry_point", N_("Entry point")),
        Field("transit.exit_point", N_("Exit point")),
        Field("transit.escorts", N_("Escorts"), "number", attrs={"min": "0", "max": "20"}),
        Field("transit.flight.number", N_("Flight (optional)")),
    ]


def form_names() -> list[str]:
    names = ["kind", "agreement", "protocol", "requested", "category", "procedure"]
    names += [f"transit.{name}" for name in TRANSIT_FIELDS]
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
        for key in ("kind", "agreement", "protocol", "requested", "category", "procedure")
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
    if data.get("kind") == "transit":
        data["transit"] = _transit_request(value, zone, errors)
    try:
        body = OpenCaseBody.model_validate(data)
    except ValidationError as error:
        for name, messages in validation_messages(error).items():
            errors.setdefault(_form_row(name, rows), []).extend(messages)
    if errors:
        raise FormErrors(errors)
    return body


def _transit_request(
    value: Callable[[str], str], zone: str, errors: dict[str, list[str]]
) -> dict[str, Any]:
    """The `transit` request of the body from the form's `transit.*` fields (nested)."""
    given: dict[str, Any] = {}
    for name in TRANSIT_FIELDS:
        text = value(f"transit.{name}")
        if not text:
            continue
        if name == "planned_at":
            try:
                given[name] = local_instant(text, zone)
            except ValueError:
                errors[f"transit.{name}"] = ["enter a date and a time"]
            continue
        given[name] = text.upper() if name == "destination" else text
    return nested(given)


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
