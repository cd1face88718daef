"""Sealing personal data with a case key: what is sealed, what stays clear, what cannot open."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from adapters.agreements.catalogue import load_catalogue
from adapters.protection.sealing import CaseSealer, SealError
from domain.agreements import Category
from domain.commands import (
    AddEvidence,
    OpenCase,
    RecordVerification,
    SubmitApplication,
    personal_data_in_clear,
)
from domain.state import CaseState
from domain.values import (
    EvidenceItem,
    Grade,
    GradedEvidence,
    Person,
    Sealed,
    VerificationOutcome,
    VerificationStatus,
)

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CASE = "PL-UA-2027-000001"
PERSON = Person(
    surname="Kovalenko",
    given_names="Oksana",
    birth_date=date(1991, 4, 12),
    birth_place="Lviv",
    personal_number="19910412-01234",
    address="vul. Shevchenka 1, Lviv",
)
PASSPORT = EvidenceItem(
    kind="passport", number="FA123456", valid_until=date(2030, 1, 1), mrz=("P<UKR" + "<" * 39,)
)


def sealer(case_id: str = CASE) -> CaseSealer:
    return CaseSealer(case_id, os.urandom(32))


def test_the_person_seals_and_opens_and_the_seal_shows_nothing() -> None:
    box = sealer()
    sealed = box.seal_person(PERSON)
    assert isinstance(sealed, Sealed)
    for personal in ("Kovalenko", "Oksana", "1991", "Lviv", "01234"):
        assert personal not in sealed.sealed
    assert box.open_person(sealed) == PERSON
    # two seals of the same data differ (fresh nonce): equal people cannot be linked by seal
    assert box.seal_person(PERSON) != sealed


def test_evidence_keeps_its_kind_and_dates_clear_and_seals_what_identifies() -> None:
    box = sealer()
    item = box.seal_item(PASSPORT)
    assert item.kind == "passport" and item.valid_until == date(2030, 1, 1)
    assert item.number is None and item.mrz == () and item.sealed is not None
    assert not item.personal
    assert box.open_item(item) == PASSPORT
    plain = EvidenceItem(kind="birth_certificate", issued_on=date(1991, 5, 1))
    assert box.seal_item(plain) is plain  # nothing identifying: nothing to seal


def test_a_sealed_item_cannot_also_carry_a_number_in_the_clear() -> None:
    item = sealer().seal_item(PASSPORT)
    with pytest.raises(ValidationError, match="sealed"):
        EvidenceItem.model_validate(item.model_dump() | {"number": "FA123456"})


def test_a_seal_opens_only_with_its_case_key_and_for_its_purpose() -> None:
    key = os.urandom(32)
    sealed = CaseSealer(CASE, key).seal_person(PERSON)
    with pytest.raises(SealError, match="person"):
        CaseSealer(CASE, os.urandom(32)).open_person(sealed)
    with pytest.raises(SealError):  # the same key, but copied into another case
        CaseSealer("PL-UA-2027-000002", key).open_person(sealed)
    with pytest.raises(SealError):  # a person's seal passed off as an evidence item's
        CaseSealer(CASE, key).open("evidence", sealed)


def test_verification_reasons_are_sealed_because_they_quote_documents() -> None:
    box = sealer()
    outcome = VerificationOutcome(
        status=VerificationStatus.CONFIRMED,
        score=Decimal("0.93"),
        reasons=("document FA123456 is registered to this person", "birth date matches"),
    )
    sealed = box.seal_outcome(outcome)
    assert sealed.reasons == () and sealed.sealed_reasons is not None
    assert sealed.status is VerificationStatus.CONFIRMED and sealed.score == Decimal("0.93")
    assert box.open_outcome(sealed) == outcome


def test_commands_with_personal_data_in_the_clear_are_named() -> None:
    terms = load_catalogue().terms("EU-UA", "PL", "UA")
    opening = OpenCase(
        at=AT,
        case_id=CASE,
        terms=terms,
        category=Category.OWN_NATIONAL,
        person=PERSON,
        evidence=(PASSPORT,),
    )
    assert personal_data_in_clear(opening) == ("person", "evidence")
    box = sealer()
    assert personal_data_in_clear(box.seal_command(opening)) == ()
    adding = AddEvidence(at=AT, items=(PASSPORT,))
    assert personal_data_in_clear(adding) == ("items",)
    assert personal_data_in_clear(box.seal_command(adding)) == ()
    recording = RecordVerification(
        at=AT,
        outcome=VerificationOutcome(
            status=VerificationStatus.INCONCLUSIVE, score=Decimal("0.5"), reasons=("x",)
        ),
    )
    assert personal_data_in_clear(recording) == ("outcome.reasons",)
    assert personal_data_in_clear(box.seal_command(recording)) == ()
    assert personal_data_in_clear(SubmitApplication(at=AT)) == ()


def test_reveal_opens_a_whole_state() -> None:
    box = sealer()
    state = CaseState(
        case_id=CASE,
        person=box.seal_person(PERSON),
        evidence=(GradedEvidence(item=box.seal_item(PASSPORT), grade=Grade.PROOF),),
    )
    opened = box.reveal(state)
    assert opened.person == PERSON
    assert opened.evidence[0].item == PASSPORT and opened.evidence[0].grade is Grade.PROOF
