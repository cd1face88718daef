"""What a reading offers the forms (api/mrz_scans.py), without OCR: person fields in the form's
spelling, the evidence kind by the document code, nothing offered for what the zone leaves out."""

from __future__ import annotations

from datetime import date

import mrz_specimens as specimens

from adapters.mrz_scan import MrzScan
from api.mrz_scans import scan_answer, suggestions
from domain.identity.mrz import parse_mrz

TODAY = date(2026, 12, 8)


def scan_of(zone: tuple[str, ...]) -> MrzScan:
    return MrzScan(found=True, result=parse_mrz(zone, today=TODAY), lines=zone)


def test_a_passport_offers_the_person_and_a_passport() -> None:
    offered = suggestions(scan_of(specimens.TD3_ICAO))
    assert offered.person == {
        "surname": "Eriksson",
        "given_names": "Anna Maria",
        "sex": "F",
        "nationality": "UTO",
        "birth_date": "1974-08-12",
    }
    assert (offered.evidence.kind, offered.evidence.number) == ("passport", "L898902C3")


def test_an_identity_card_offers_an_identity_card() -> None:
    offered = suggestions(scan_of(specimens.TD1_POLAND))
    assert (offered.evidence.kind, offered.evidence.number) == ("identity_card", "ABA300000")


def test_an_unknown_birth_day_and_sex_are_not_offered() -> None:
    zone = specimens.td3("P", "UKR", "SHEVCHENKO<<OLEKSANDR", "FA123456", "UKR", "90<<<<", "<",
                         "310101")  # fmt: skip
    offered = suggestions(scan_of(zone))
    assert "birth_date" not in offered.person
    assert offered.person["sex"] == "X"  # Doc 9303: '<' is unspecified, the form's X


def test_the_answer_says_which_check_digits_passed() -> None:
    zone = (specimens.TD3_ICAO[0], specimens.TD3_ICAO[1][:9] + "4" + specimens.TD3_ICAO[1][10:])
    answer = scan_answer(scan_of(zone))
    assert answer["valid"] is False
    assert answer["check_digits"]["document_number"] is False
    assert answer["check_digits"]["birth_date"] is True
    assert "document_number" in answer["failed"]
