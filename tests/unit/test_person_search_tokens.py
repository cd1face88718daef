"""The person search's tokens, hashes and scores: any spelling finds any other, a document
number in any punctuation finds itself, kinds never cross, and the score says what matched."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.protection.blind_index import BlindIndex, PersonQuery, all_tokens
from domain.identity.search_tokens import (
    Kind,
    document_token,
    given_name_words,
    person_tokens,
    score,
    surname_words,
)
from domain.values import EvidenceItem, Person

KEY = bytes(range(32))


def overlap(a: str, b: str) -> set[tuple[Kind, str]]:
    return set().union(*surname_words(a)) & set().union(*surname_words(b))


@pytest.mark.parametrize(
    ("indexed", "searched"),
    [
        ("Шевченко", "Shevchenko"),
        ("Шевченко", "Schewtschenko"),
        ("Олександр", "Oleksandr"),
        ("Харченко", "Kharchenko"),
        ("Харченко", "Harchenko"),
        ("Щербак", "Shcherbak"),
        ("Юрій", "Yurii"),
        ("Юрій", "Iurii"),
        ("Ковальчук", "KOVALCHUK"),
        ("Țurcanu", "Turcanu"),
    ],
)
def test_a_spelling_shares_an_exact_key_with_the_cyrillic(indexed: str, searched: str) -> None:
    assert any(kind is Kind.SURNAME for kind, _ in overlap(indexed, searched))


def test_a_different_vowel_spelling_meets_by_its_skeleton_only() -> None:
    found = overlap("Олександр", "Aleksandr")
    assert found and all(kind is Kind.SURNAME_SKELETON for kind, _ in found)


def test_different_names_share_nothing() -> None:
    assert not overlap("Шевченко", "Petrenko")
    assert not overlap("Bondar", "Melnyk")


def test_document_numbers_keep_letters_and_digits_in_capitals() -> None:
    assert document_token("fa 123-456/7") == "FA1234567"
    assert document_token(" - ") == ""


def test_a_persons_tokens_cover_every_criterion_and_other_names() -> None:
    tokens = person_tokens("Шевченко", "Олександр", date(1990, 5, 1), ["FA 123456"], ["Коваль"])
    kinds = {kind for kind, _ in tokens}
    assert kinds == set(Kind)
    assert (Kind.BIRTH_DATE, "1990-05-01") in tokens
    assert (Kind.DOCUMENT, "FA123456") in tokens
    assert tokens & set().union(*surname_words("Koval"))  # searched under the other name too


def test_hashes_are_keyed_and_kinds_never_collide() -> None:
    index, other = BlindIndex(KEY), BlindIndex(bytes(range(1, 33)))
    token = (Kind.SURNAME, "SeVenko")
    assert index.hash(token) == index.hash(token)
    assert index.hash(token) != other.hash(token)
    assert index.hash(token) != index.hash((Kind.GIVEN_NAME, "SeVenko"))
    assert len(index.hash(token)) == 32
    with pytest.raises(ValueError, match="32 bytes"):
        BlindIndex(b"short")


def test_a_persons_entries_hold_no_clear_text() -> None:
    person = Person(surname="Шевченко", given_names="Олена", birth_date=date(1990, 5, 1))
    entries = BlindIndex(KEY).person_entries(person, [EvidenceItem(kind="passport", number="FA1")])
    assert {e.kind for e in entries} >= {"surname", "birth_date", "document", "given_name"}
    blob = b"".join(e.hash for e in entries)
    for clear in (b"1990", b"FA1", "Шевченко".encode(), b"sevcenko", b"SeVenko"):
        assert clear not in blob


def test_a_query_asks_only_what_it_has() -> None:
    assert PersonQuery().asked() == {}
    assert PersonQuery(surname="123", document_number="--").asked() == {}
    asked = PersonQuery(surname="Shevchenko", birth_date=date(1990, 5, 1)).asked()
    assert set(asked) == {"surname", "birth_date"}
    assert (Kind.BIRTH_DATE, "1990-05-01") in all_tokens(asked)


def test_the_score_is_the_weight_matched_over_the_weight_asked() -> None:
    indexed = person_tokens("Шевченко", "Олена", date(1990, 5, 1), ["FA123456"])
    full = PersonQuery("Shevchenko", "Olena", date(1990, 5, 1), "FA 123456").asked()
    assert score(full, indexed) == (
        1.0,
        ("surname", "given_names", "birth_date", "document_number"),
    )
    wrong_date = PersonQuery("Shevchenko", birth_date=date(1991, 5, 1)).asked()
    assert score(wrong_date, indexed) == (0.5, ("surname",))
    nothing = PersonQuery("Bondar", birth_date=date(1991, 5, 1)).asked()
    assert score(nothing, indexed) == (0.0, ())


def test_a_similar_spelling_counts_less_and_says_so() -> None:
    indexed = person_tokens("Петренко", "Олександр", date(1980, 1, 2))
    value, reasons = score(PersonQuery("Petrenko", "Aleksandr").asked(), indexed)
    assert reasons == ("surname", "given_names~")
    assert value == round((3 + 2 * 0.7) / 5, 3)


def test_half_a_double_surname_scores_half() -> None:
    indexed = person_tokens("Коваль", "Ірина", date(1975, 3, 4))
    value, reasons = score({"surname": surname_words("Koval Bondar")}, indexed)
    assert (value, reasons) == (0.5, ("surname",))
    assert given_name_words("  ") == []
