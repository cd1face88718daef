"""Free text is sealed like the person: every reason and note of every command, and the name of
the place where the person was apprehended. Histories recorded before it was (clear text) still
read, fold and show; a sealed text shows `{"erased": true}` once the case key is gone."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from adapters.agreements.catalogue import load_catalogue
from adapters.protection.sealing import CaseSealer, SealError, free_texts
from domain.agreements import Category
from domain.commands import (
    CATALOGUE,
    FREE_TEXT_FIELDS,
    Command,
    OpenCase,
    RefuseApplication,
    personal_data_in_clear,
)
from domain.decider import evolve
from domain.errors import ReasonsRequired
from domain.events import (
    ApplicationAccepted,
    ApplicationRefused,
    ApplicationSubmitted,
    CaseOpened,
    ErrorClaimDisputed,
    parse_event,
)
from domain.rules import require_reasons
from domain.state import REASONS_FIELDS, CaseState
from domain.values import ApprehensionPlace, Person, PlaceKind, Sealed

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CASE = "PL-UA-2027-000001"
SECRET_REASON = "the applicant's daughter Maria is in hospital in Lviv"
SECRET_NOTE = "met Mr Kovalenko's lawyer at the station"
SECRET_PLACE = "vul. Shevchenka 1, flat 3, Przemyśl"
PLACE = ApprehensionPlace(kind=PlaceKind.LAND_BORDER, name=SECRET_PLACE, km_from_border=Decimal(3))
PERSON = Person(surname="Kovalenko", given_names="Oksana", birth_date=date(1991, 4, 12))


def sealer(case_id: str = CASE) -> CaseSealer:
    return CaseSealer(case_id, os.urandom(32))


def with_free_text(kind_name: str) -> Command:
    """The command of the catalogue named `kind_name`, with every free-text field it has."""
    kind = next(k for k in CATALOGUE if k.name == kind_name)
    fields: dict[str, Any] = {}
    names = kind.model.model_fields
    if "reasons" in names:
        fields["reasons"] = [SECRET_REASON]
    if "note" in names:
        fields["note"] = SECRET_NOTE
    if "text" in names:  # a message between the two states
        fields["text"] = SECRET_NOTE
    for name, value in {
        "limit": "reply",
        "level": "reminder_half",
        "on": AT,
        "bcp": "Medyka",
        "mode": "land",
        "days": 30,
        "entry_point": "Chop",
        "exit_point": "Záhony",
        "person": PERSON,
        "items": [{"kind": "passport", "issued_on": "2020-01-01"}],
        "outcome": {"status": "confirmed", "score": "0.9"},
        "reply": "refuse",  # a drafted reply
        "by": "officer.ua",
        # a file added to the case (its description is the note); a message (its text)
        "side": "requesting",
        "attachment_id": "3f2b8c1e-9d4a-4c6b-8e2f-0a1b2c3d4e5f",
        "sha256": "0" * 64,
        "media_type": "image/png",
        "size": 1,
        "message_id": "00000000-0000-4000-8000-000000000001",
        "kind": "note",
    }.items():
        if name in names and names[name].is_required():
            fields[name] = value
    return kind.build(AT, fields)


TEXT_COMMANDS = [
    k.name
    for k in CATALOGUE
    if k.name != "open_case" and set(FREE_TEXT_FIELDS) & set(k.model.model_fields)
]


def test_the_catalogue_has_free_text_in_many_commands() -> None:
    # reasons: extend, refuse, object, extend transfer, claim, dispute, withdraw, refuse transit,
    # transit failure; notes: accept, confirm transfer, accept claim, consent, take back, and an
    # attachment's description; both: a draft reply; reasons: a returned reply; a message's text
    assert len(TEXT_COMMANDS) == 18


@pytest.mark.parametrize("name", TEXT_COMMANDS)
def test_every_free_text_of_every_command_is_refused_in_the_clear_then_sealed(name: str) -> None:
    command = with_free_text(name)
    given = [f for f in FREE_TEXT_FIELDS if f in type(command).model_fields]
    assert set(personal_data_in_clear(command)) >= set(given)
    box = sealer()
    sealed = box.seal_command(command)
    assert personal_data_in_clear(sealed) == ()
    text = sealed.model_dump_json()
    assert SECRET_REASON not in text and SECRET_NOTE not in text
    assert box.open_free_text(sealed) == command


def test_the_apprehension_place_name_is_sealed_its_kind_and_distance_stay_clear() -> None:
    opening = OpenCase(
        at=AT,
        case_id=CASE,
        terms=load_catalogue().terms("EU-UA", "PL", "UA"),
        category=Category.OWN_NATIONAL,
        person=PERSON,
        apprehended_at=AT,
        apprehension_place=PLACE,
    )
    assert personal_data_in_clear(opening) == ("person", "apprehension_place.name")
    box = sealer()
    sealed = box.seal_command(opening)
    assert isinstance(sealed, OpenCase) and sealed.apprehension_place is not None
    assert isinstance(sealed.apprehension_place.name, Sealed)
    assert sealed.apprehension_place.kind is PlaceKind.LAND_BORDER
    assert sealed.apprehension_place.km_from_border == Decimal(3)  # the rules read it
    assert personal_data_in_clear(sealed) == ()
    assert SECRET_PLACE not in sealed.model_dump_json()
    assert box.open_place(sealed.apprehension_place) == PLACE


def test_no_reasons_are_not_sealed_so_the_decider_still_asks_for_some() -> None:
    box = sealer()
    empty = RefuseApplication(at=AT, reasons=())
    assert box.seal_command(empty).reasons == ()  # type: ignore[union-attr]
    with pytest.raises(ReasonsRequired):
        require_reasons((), "a refusal")
    require_reasons(box.seal_reasons(("a reason",)), "a refusal")  # a seal holds at least one


def test_a_text_seal_opens_only_for_its_case_and_purpose() -> None:
    key = os.urandom(32)
    sealed = CaseSealer(CASE, key).seal_reasons((SECRET_REASON,))
    assert isinstance(sealed, Sealed)
    with pytest.raises(SealError):
        CaseSealer("PL-UA-2027-000002", key).open_reasons(sealed)
    with pytest.raises(SealError):  # reasons passed off as a note
        CaseSealer(CASE, key).open_note(sealed)


def test_reveal_opens_every_reason_the_state_keeps() -> None:
    box = sealer()
    sealed = {name: box.seal_reasons((f"{name}: {SECRET_REASON}",)) for name in REASONS_FIELDS}
    state = CaseState(case_id=CASE, apprehension_place=box.seal_place(PLACE), **sealed)
    opened = box.reveal(state)
    for name in REASONS_FIELDS:
        assert getattr(opened, name) == (f"{name}: {SECRET_REASON}",)
    assert opened.apprehension_place == PLACE


def test_events_recorded_in_the_clear_still_read_fold_and_show() -> None:
    """v0.2 and ruleset 1/2 histories recorded free text in the clear."""
    refused = parse_event(
        {"type": "ApplicationRefused", "at": "2027-03-01T09:00:00Z", "reasons": ["not ours"]}
    )
    accepted = parse_event(
        {"type": "ApplicationAccepted", "at": "2027-03-01T09:00:00Z", "note": "fine"}
    )
    assert isinstance(refused, ApplicationRefused) and refused.reasons == ("not ours",)
    assert isinstance(accepted, ApplicationAccepted) and accepted.note == "fine"
    assert evolve(CaseState(case_id=CASE), refused).refusal_reasons == ("not ours",)
    box = sealer()
    assert box.open_free_text(refused) == refused  # nothing sealed: as recorded
    assert free_texts(refused, None) == {"reasons": ["not ours"]}
    assert free_texts(accepted, box) == {"note": "fine"}


def test_free_texts_open_with_the_key_and_show_erased_without() -> None:
    box = sealer()
    disputed = box.seal_free_text(ErrorClaimDisputed(at=AT, reasons=(SECRET_REASON,)))
    opened = box.seal_free_text(
        CaseOpened(
            at=AT,
            case_id=CASE,
            terms=load_catalogue().terms("EU-UA", "PL", "UA"),
            category=Category.OWN_NATIONAL,
            procedure="standard",
            person=box.seal_person(PERSON),
            apprehension_place=PLACE,
        )
    )
    assert free_texts(disputed, box) == {"reasons": [SECRET_REASON]}
    assert free_texts(disputed, None) == {"reasons": {"erased": True}}
    assert free_texts(opened, box) == {"apprehension_place": SECRET_PLACE}
    assert free_texts(opened, None) == {"apprehension_place": {"erased": True}}
    assert free_texts(ApplicationSubmitted(at=AT), None) == {}
