"""Builders for test cases: explicit agreement terms, persons, evidence and commands.

Decider tests use these explicit terms (not the shipped catalogue) so that a catalogue correction
never changes what a rule test means.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from domain.agreements import AgreementTerms, Limit
from domain.commands import Command, OpenCase
from domain.decider import decide, fold
from domain.events import Event
from domain.state import CaseState
from domain.values import EvidenceItem, Person

CASE_ID = "PL-UA-2027-000123"


def application_body(**changes: Any) -> dict[str, Any]:
    """A valid body for `POST /cases` (PL asks UA to readmit one of its nationals), a fresh copy
    each call; `changes` replace or add top-level fields (e.g. `knowledge_at`)."""
    return {
        "agreement": "EU-UA",
        "requested": "UA",
        "category": "own_national",
        "person": {"surname": "Shevchenko", "given_names": "Oleksandr", "birth_date": "1990-05-17"},
        "evidence": [{"kind": "passport", "number": "FA123456"}],
        **changes,
    }


def limit(amount: int, unit: str, frm: str, **extra: Any) -> Limit:
    return Limit.model_validate({"amount": amount, "unit": unit, "from": frm, **extra})


def terms(**overrides: Any) -> AgreementTerms:
    """EU-UA-like terms between PL (requesting) and UA (requested)."""
    data: dict[str, Any] = {
        "agreement_id": "EU-UA",
        "protocol_state": None,
        "title": "test terms",
        "requesting": "PL",
        "requested": "UA",
        "in_force": date(2008, 1, 1),
        "tcn_obligations_from": date(2010, 1, 1),
        "suspensions": (),
        "time_zones": {},
        "border_region": {"land_km": 30, "sea_ports": True, "international_airports": True},
        "limits": {
            "submission": limit(1, "years", "knowledge", on_expiry="lapsed"),
            "accelerated_submission": limit(
                2, "working_days", "apprehension", calendar="requesting", on_expiry="lapsed"
            ),
            "reply": limit(
                14,
                "calendar_days",
                "receipt",
                on_expiry="deemed_accepted",
                extension={"up_to": 60, "unit": "calendar_days"},
            ),
            "accelerated_reply": limit(2, "working_days", "receipt", on_expiry="deemed_accepted"),
            "transfer": limit(
                3, "months", "acceptance", on_expiry="escalate", extension={"by": "obstacle"}
            ),
            "readmission_in_error": limit(3, "months", "transfer", on_expiry="lapsed"),
            "error_answer": limit(
                14, "calendar_days", "claim", calendar="requesting", on_expiry="deemed_accepted"
            ),
            "error_return": limit(3, "months", "acceptance", on_expiry="escalate"),
        },
        "evidence": {
            "proof_of_nationality": ["passport", "identity_card"],
            "prima_facie_nationality": ["passport_copy", "driving_licence"],
            "proof_tcn": ["visa", "residence_permit"],
        },
        "transfer": {"bcps": ["Medyka-Shehyni", "Dorohusk-Yahodyn"], "modes": ["land", "air"]},
        "retention": {},
    }
    data.update(overrides)
    return AgreementTerms.model_validate(data)


def person() -> Person:
    return Person(surname="Shevchenko", given_names="Oleksandr", birth_date=date(1990, 5, 17))


def passport() -> EvidenceItem:
    return EvidenceItem(kind="passport", number="FA123456")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


T0 = at("2027-01-04T10:00:00+01:00")


def open_case(**overrides: Any) -> OpenCase:
    data: dict[str, Any] = {
        "at": T0,
        "case_id": CASE_ID,
        "terms": terms(),
        "category": "own_national",
        "person": person(),
        "evidence": (passport(),),
        "knowledge_at": T0 - timedelta(days=2),
    }
    data.update(overrides)
    return OpenCase.model_validate(data)


def run(
    commands: Sequence[Command], state: CaseState | None = None
) -> tuple[CaseState, list[Event]]:
    """Decide and fold each command in turn."""
    current = state or fold([])
    history: list[Event] = []
    for command in commands:
        events = decide(command, current)
        history.extend(events)
        current = fold(events, current)
    return current, history
