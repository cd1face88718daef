"""How opened and erased free text reads in the API's case view and in `readmit case show`: a
list or a name while the case key opens it, `{"erased": true}` ("[erased]" in a terminal) once
it is gone."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from factories import terms

from adapters.protection.sealing import CaseSealer
from api.auth import Principal
from api.views import case_detail
from domain.state import CaseState
from domain.values import ApprehensionPlace, PlaceKind, Status
from readmit.cli.case_render import case_lines

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CASE = "PL-UA-2027-000001"
ANNA = Principal("anna.pl", "officer", "PL", frozenset({"PL"}))


def sealed_state(box: CaseSealer) -> CaseState:
    return CaseState(
        case_id=CASE,
        terms=terms(),
        status=Status.REFUSED,
        opened_at=AT,
        apprehended_at=AT,
        apprehension_place=box.seal_place(
            ApprehensionPlace(kind=PlaceKind.INLAND, name="Vokzalna street 12")
        ),
        refusal_reasons=box.seal_reasons(("his brother lives here",)),
        withdrawal_reasons=box.seal_reasons(("withdrawn: the family asked",)),
    )


def test_opened_free_text_reads_as_text() -> None:
    box = CaseSealer(CASE, os.urandom(32))
    shown = case_detail(box.reveal(sealed_state(box)), ANNA)
    assert shown["refusal_reasons"] == ["his brother lives here"]
    assert shown["withdrawal_reasons"] == ["withdrawn: the family asked"]
    assert shown["transfer_objection"] == []
    assert shown["apprehension_place"] == {
        "kind": "inland",
        "name": "Vokzalna street 12",
        "km_from_border": None,
    }
    lines = "\n".join(case_lines(shown, []))
    assert "refused:   his brother lives here" in lines
    assert "withdrawn: withdrawn: the family asked" in lines
    assert "at inland Vokzalna street 12" in lines


def test_erased_free_text_reads_as_erased() -> None:
    box = CaseSealer(CASE, os.urandom(32))
    shown = case_detail(sealed_state(box), ANNA)  # the key is gone: nothing opened it
    assert shown["refusal_reasons"] == {"erased": True}
    assert shown["withdrawal_reasons"] == {"erased": True}
    assert shown["apprehension_place"]["name"] == {"erased": True}
    assert shown["apprehension_place"]["kind"] == "inland"
    lines = "\n".join(case_lines(shown, []))
    assert "refused:   [erased]" in lines and "at inland [erased]" in lines
    assert "brother" not in lines and "Vokzalna" not in lines
