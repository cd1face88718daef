"""Name matching across Cyrillic/Latin and transliteration systems: a table of real variants."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity.names import MATCH_THRESHOLD, latin_key, match_names

# (name a, name b, lowest acceptable score, highest acceptable score)
SAME_PERSON = [
    # Ukrainian: Cabinet Resolution No. 55 (2010) and the older passport spellings
    ("Олександр Шевченко", "Oleksandr Shevchenko", 1.0, 1.0),
    ("Олександр Шевченко", "Aleksandr Shevchenko", 0.85, 0.95),
    ("Oleksandr Shevchenko", "Aleksandr Shevchenko", 0.85, 0.95),
    ("Григорій Сковорода", "Hryhorii Skovoroda", 1.0, 1.0),
    ("Hryhorii", "Grigorii", 0.9, 1.0),
    ("Ihor Kovalenko", "Igor Kovalenko", 0.9, 1.0),
    ("Ігор", "Igor", 0.9, 1.0),
    ("Наталія Ковальська", "Nataliia Kovalska", 1.0, 1.0),
    ("Згуровський", "Zgurovskyi", 0.9, 1.0),
    ("Дмитро Кулеба", "Dmitry Kuleba", 0.85, 1.0),
    ("Олександр Петрович Шевченко", "Oleksandr Shevchenko", 0.9, 1.0),
    ("SHEVCHENKO<<OLEKSANDR", "Олександр Шевченко", 1.0, 1.0),
    # Russian: 1997, 2000, 2010 (GOST) and 2014 (ICAO) passport rules
    ("Юрий Гагарин", "Yuriy Gagarin", 1.0, 1.0),
    ("Юрий Гагарин", "Iurii Gagarin", 1.0, 1.0),
    ("Цветков Андрей", "Andrei Tcvetkov", 1.0, 1.0),
    ("Tsvetkov", "Tcvetkov", 0.9, 1.0),
    ("Хрущёв", "Khrushchev", 1.0, 1.0),
    ("Щербаков", "Scherbakov", 0.9, 1.0),
    ("Евгений", "Yevgeniy", 0.9, 1.0),
    ("Ekaterina Smirnova", "Yekaterina Smirnova", 0.9, 1.0),
    ("Serhii Kovalenko", "Sergei Kovalenko", 0.85, 1.0),
    # Belarusian, in its Belarusian and Russian forms
    ("Аляксандр Лукашэнка", "Aliaksandr Lukashenka", 1.0, 1.0),
    ("Александр Лукашенко", "Aliaksandr Lukashenka", 0.85, 0.95),
    ("Сяргей Ціханоўскі", "Siarhei Tsikhanouski", 1.0, 1.0),
    ("Дзмітрый", "Dzmitry", 0.9, 1.0),
    ("Aliaksandr", "Alexander", 0.85, 0.95),
    ("Aliaksandr", "Oleksandr", 0.85, 0.95),
    ("Alexander", "Oleksandr", 0.85, 0.95),
    # Romanian/Moldovan: comma and cedilla diacritics, and the Russian form
    ("Ștefan Mărgărit", "Stefan Margarit", 1.0, 1.0),
    ("Ţurcanu Ion", "ION TURCANU", 1.0, 1.0),
    ("Ștefan Țurcanu", "Штефан Цуркану", 0.9, 1.0),
    ("Ana Munteanu", "Anna Munteanu", 0.9, 1.0),
]
DIFFERENT_PEOPLE = [
    ("Oleksandr Shevchenko", "Petro Kovalenko", 0.0, 0.5),
    ("Ivan Petrov", "Ivanna Petrova", 0.0, 0.5),
    ("Oleksandr Shevchenko", "Oleksandra Shevchenko", 0.0, 0.5),
    ("Yevhen Bondar", "Yevheniia Bondar", 0.0, 0.5),
    ("Kovalskyi", "Kovalska", 0.0, 0.5),
    ("Siarhei Tsikhanouski", "Sviatlana Tsikhanouskaya", 0.0, 0.5),
    ("Iryna Shevchenko", "Olena Shevchenko", 0.0, 0.6),
    ("Olena", "Alina", 0.0, 0.65),
    ("Іван Петренко", "Ivan Petrov", 0.0, 0.8),
    ("Andrii Melnyk", "Andrii Melnychenko", 0.0, 0.82),
    ("Viktor Yanukovych", "Viktor Yushchenko", 0.0, 0.7),
    ("Maria Popescu", "Mihai Popescu", 0.0, 0.75),
    ("Ion Munteanu", "Ion Moraru", 0.0, 0.6),
    ("Аляксандр Лукашэнка", "Aliaksandr Lukashevich", 0.0, 0.8),
]


@pytest.mark.parametrize(("a", "b", "low", "high"), SAME_PERSON + DIFFERENT_PEOPLE)
def test_score_table(a: str, b: str, low: float, high: float) -> None:
    result = match_names(a, b)
    assert low <= result.score <= high, (result.score, result.reasons)


@pytest.mark.parametrize(("a", "b", "low", "high"), SAME_PERSON)
def test_same_person_is_a_match_either_way_round(a: str, b: str, low: float, high: float) -> None:
    assert match_names(a, b).is_match and match_names(b, a).is_match


@pytest.mark.parametrize(("a", "b", "low", "high"), DIFFERENT_PEOPLE)
def test_different_people_are_not_a_match(a: str, b: str, low: float, high: float) -> None:
    result = match_names(a, b)
    assert not result.is_match and result.score < MATCH_THRESHOLD


def test_reasons_name_the_transliteration_system() -> None:
    result = match_names("Олександр Шевченко", "Oleksandr Shevchenko")
    assert "'Шевченко' = 'Shevchenko' via Ukrainian 2010 (Cabinet Resolution No. 55)" in (
        result.reasons
    )
    gost = match_names("Цветков", "Tcvetkov").reasons[0]
    assert "Russian passport 2010 (GOST R 52535.1-2006)" in gost


def test_reasons_explain_gender_forms_and_missing_words() -> None:
    reasons = match_names("Ivan Petrov", "Ivanna Petrova").reasons
    assert "'Ivan' and 'Ivanna' are forms of one name for different genders" in reasons
    patronymic = match_names("Олександр Петрович Шевченко", "Oleksandr Shevchenko").reasons
    assert "'Петрович' has no counterpart (a patronymic)" in patronymic
    assert (
        match_names("Ștefan", "Stefan").reasons[0]
        == "'Ștefan' = 'Stefan' after removing diacritics"
    )


def test_word_order_does_not_matter_and_variants_follow_name_a() -> None:
    result = match_names("Шевченко Олександр", "Oleksandr Shevchenko")
    assert result.score == 1.0
    assert result.best_variant_a == result.best_variant_b == "shevchenko oleksandr"
    assert [p.a for p in result.pairs] == ["Шевченко", "Олександр"]


def test_an_extra_word_that_is_not_a_patronymic_costs_more() -> None:
    patronymic = match_names("Олександр Петрович Шевченко", "Oleksandr Shevchenko").score
    second_surname = match_names("Oleksandr Shevchenko Bondar", "Oleksandr Shevchenko").score
    assert patronymic > second_surname


def test_empty_names_never_match() -> None:
    assert match_names("", "Oleksandr").score == 0.0
    assert not match_names("123", "<<").is_match


@pytest.mark.parametrize(("spelling", "key"), [
    ("Hryhorii", "HriHori"), ("Grigoriy", "HriHori"), ("Tcvetkov", "Tvetkov"),
    ("Tsvetkov", "Tvetkov"), ("Alexander", "aleksander"), ("Shchur", "Qur"), ("Yevhen", "evHen"),
])  # fmt: skip
def test_latin_keys_merge_transliteration_alternatives(spelling: str, key: str) -> None:
    assert latin_key(spelling) == key


words = st.text(st.sampled_from("абвгдежзийклмнопрстуфхцчшщыьэюяіїєґabcdefghijklmnopqrstuvwxyz"),
                min_size=1, max_size=12)  # fmt: skip
full_names = st.lists(words, min_size=1, max_size=4).map(" ".join)


@given(full_names, full_names)
def test_score_is_bounded_and_symmetric(a: str, b: str) -> None:
    ab, ba = match_names(a, b), match_names(b, a)
    assert 0.0 <= ab.score <= 1.0
    assert ab.score == ba.score


@given(full_names)
def test_a_name_matches_itself(a: str) -> None:
    assert match_names(a, a).score == 1.0


def test_a_match_takes_well_under_five_milliseconds() -> None:
    pairs = [(a, b) for a, b, _, _ in SAME_PERSON + DIFFERENT_PEOPLE]
    start = time.perf_counter()
    for a, b in pairs:
        match_names(_unseen(a), _unseen(b))
    elapsed = (time.perf_counter() - start) / len(pairs)
    assert elapsed < 0.005, f"{elapsed * 1000:.2f} ms per match"


def _unseen(name: str) -> str:
    """The name with a letter added to each word, so its variants are generated, not cached."""
    suffix = "о" if any("а" <= c <= "я" or c in "іїєґў" for c in name.casefold()) else "o"
    return " ".join(word + suffix for word in name.split())


def test_long_names_are_paired_word_by_word() -> None:
    long_a = "Олександр Петрович Шевченко Бондар Іван Сидір"
    long_b = "Sydir Ivan Bondar Shevchenko Petrovych Oleksandr"
    assert match_names(long_a, long_b).score == 1.0
    assert match_names(long_a, long_b.replace("Sydir", "Mykhailo")).score < MATCH_THRESHOLD


def test_other_scripts_match_only_when_identical() -> None:
    assert match_names("Αλέξης", "Αλέξης").score == 1.0
    assert match_names("Αλέξης", "Γιώργος").score == 0.0
    assert match_names("ნიკა", "Nika").score == 0.0
