"""`CaseSealer.open_command` is the exact inverse of `seal_command`: a federated node opens a
command it sealed with its own case key before encrypting it to the peer, and the peer must get
back the very command the officer gave (person, evidence, verification reasons, free text)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from factories import CASE_ID, open_case
from generators import BUILDERS, generate, steps
from hypothesis import given, settings
from hypothesis import strategies as st
from transit_factories import open_transit

from adapters.protection.sealing import CaseSealer, SealError
from domain.commands import CATALOGUE, Command, personal_data_in_clear
from domain.values import (
    ApprehensionPlace,
    EvidenceItem,
    Person,
    PlaceKind,
    VerificationOutcome,
    VerificationStatus,
)

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

# Printable text that survives the models' stripping (no control characters, no blank ends).
text = (
    st.text(st.characters(categories=("L", "N", "P", "Zs")), min_size=1, max_size=40)
    .map(str.strip)
    .filter(bool)
)
people = st.builds(
    Person,
    surname=text,
    given_names=text,
    birth_date=st.dates(date(1920, 1, 1), date(2026, 1, 1)),
    birth_place=st.none() | text,
    personal_number=st.none() | text,
    address=st.none() | text,
    other_names=st.lists(text, max_size=3).map(tuple),
)
items = st.builds(
    EvidenceItem,
    kind=st.sampled_from(["passport", "id_card", "birth_certificate"]),
    number=st.none() | text,
    issued_on=st.none() | st.dates(date(2000, 1, 1), date(2026, 1, 1)),
    mrz=st.lists(text, max_size=2).map(tuple),
    description=st.none() | text,
)
places = st.none() | st.builds(
    ApprehensionPlace,
    kind=st.sampled_from(list(PlaceKind)),
    name=st.none() | text,
    km_from_border=st.none() | st.integers(0, 50).map(Decimal),
)


def sealer(case_id: str = CASE_ID) -> CaseSealer:
    return CaseSealer(case_id, os.urandom(32))


def assert_round_trip(box: CaseSealer, command: Command) -> None:
    sealed = box.seal_command(command)
    assert personal_data_in_clear(sealed) == ()
    assert box.open_command(sealed) == command
    assert personal_data_in_clear(box.open_command(sealed)) == personal_data_in_clear(command)


@settings(max_examples=60, deadline=None)
@given(person=people, evidence=st.lists(items, max_size=3), place=places)
def test_an_opening_round_trips(
    person: Person, evidence: list[EvidenceItem], place: ApprehensionPlace | None
) -> None:
    opening = open_case(person=person, evidence=tuple(evidence), apprehension_place=place)
    assert_round_trip(sealer(), opening)


@settings(max_examples=60, deadline=None)
@given(plan=steps, builder=st.integers(0, len(BUILDERS) - 1), hours=st.integers(0, 24 * 30))
def test_every_command_of_generated_histories_round_trips(
    plan: list[tuple[int, int]], builder: int, hours: int
) -> None:
    """Each builder of `generators`, applied to a case the engine could really have reached."""
    state, events = generate(plan)
    command = BUILDERS[builder](events[-1].at + timedelta(hours=hours), state)
    assert_round_trip(sealer(), command)


@settings(max_examples=40, deadline=None)
@given(
    reasons=st.lists(text, min_size=1, max_size=3).map(tuple),
    note=text,
    outcome_reasons=st.lists(text, max_size=3).map(tuple),
    person=people,
    added=st.lists(items, min_size=1, max_size=3).map(tuple),
)
def test_every_catalogue_command_with_all_its_personal_fields_round_trips(
    reasons: tuple[str, ...],
    note: str,
    outcome_reasons: tuple[str, ...],
    person: Person,
    added: tuple[EvidenceItem, ...],
) -> None:
    box = sealer()
    for kind in CATALOGUE:
        if kind.name == "open_case":
            continue
        names = kind.model.model_fields
        fields: dict[str, Any] = {
            "reasons": reasons,
            "note": note,
            "person": person,
            "items": added,
            "outcome": VerificationOutcome(
                status=VerificationStatus.CONFIRMED, score=Decimal("0.9"), reasons=outcome_reasons
            ),
            "limit": "reply",
            "level": "reminder_half",
            "on": AT + timedelta(days=3),
            "bcp": "Medyka",
            "mode": "land",
            "days": 30,
            "entry_point": "Chop",
            "exit_point": "Záhony",
            "side": "requested",  # assignment: its side, who claims and whom it assigns
            "by": "officer.ua",
            "officer": "officer2.ua",
            "reply": "refuse",  # a drafted reply (domain.reply_approval)
            "attachment_id": "3f2b8c1e-9d4a-4c6b-8e2f-0a1b2c3d4e5f",  # a file added (its hash)
            "sha256": "0" * 64,
            "media_type": "application/pdf",
            "size": 1,
            "message_id": "00000000-0000-4000-8000-000000000001",  # a message: its text
            "kind": "note",
            "text": note,
            "repeat": 1,  # a repeated escalation's number
        }
        assert_round_trip(box, kind.build(AT, {k: v for k, v in fields.items() if k in names}))


def test_a_transit_opening_round_trips() -> None:
    assert_round_trip(sealer(), open_transit())


def test_a_command_in_the_clear_opens_as_it_is() -> None:
    """Older histories recorded free text in the clear: opening leaves it alone."""
    opening = open_case()
    assert sealer().open_command(opening) == opening


def test_a_command_sealed_for_another_case_does_not_open() -> None:
    key = os.urandom(32)
    sealed = CaseSealer(CASE_ID, key).seal_command(open_case())
    with pytest.raises(SealError):
        CaseSealer("PL-UA-2027-000999", key).open_command(sealed)
    with pytest.raises(SealError):
        sealer().open_command(sealed)
