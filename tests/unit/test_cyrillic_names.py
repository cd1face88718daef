"""A Latin name back in Ukrainian Cyrillic (KMU 2010 in reverse) and the choice of the name's
two scripts for a printed form."""

from __future__ import annotations

import pytest

from domain.identity.cyrillic import (
    latin_from_cyrillic,
    name_in_scripts,
    russian_from_latin,
    ukrainian_from_latin,
)


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("SHEVCHENKO Oleksandr", "ШЕВЧЕНКО Олександр"),
        ("Kovalenko Yuliia", "Коваленко Юлія"),
        ("Andrii Serhii Mykolai", "Андрій Сергій Миколай"),
        ("Hryhorii Yevhen Yakiv", "Григорій Євген Яків"),
        ("Tetiana Zghurska", "Тетяна Згурска"),
        ("Shchербак", "Щербак"),  # Cyrillic letters are kept as they are
        ("Ilchenko-Bondar", "Ілченко-Бондар"),
    ],
)
def test_kmu_in_reverse(latin: str, cyrillic: str) -> None:
    assert ukrainian_from_latin(latin) == cyrillic


@pytest.mark.parametrize(
    ("latin", "cyrillic"),
    [
        ("IVANOV Dmitrii", "ИВАНОВ Дмитрий"),
        ("Kuznetsov Sergei", "Кузнецов Сергей"),
        ("Iuliia Iakovleva", "Юлия Яковлева"),
        ("Rybakov Andrei Nikolaevich", "Рыбаков Андрей Николаевич"),
        ("Dmitriy Yuri", "Дмитрий Юри"),  # older spellings: -iy, Yu-
        ("Aliaksandr", "Аляксандр"),  # a Belarusian passport's spelling stays Belarusian
    ],
)
def test_icao_in_reverse(latin: str, cyrillic: str) -> None:
    assert russian_from_latin(latin) == cyrillic


def test_the_round_trip_through_the_passport_system() -> None:
    for name in ("Олександр", "Григорій", "Юлія", "Євген"):
        assert ukrainian_from_latin(latin_from_cyrillic(name)) == name
    assert latin_from_cyrillic("ШЕВЧЕНКО Олександр") == "SHEVCHENKO Oleksandr"


def test_the_scripts_a_case_prints() -> None:
    ukrainian = name_in_scripts("Shevchenko", "Oleksandr", (), ("pl", "uk", "en"))
    assert (ukrainian.latin, ukrainian.cyrillic) == ("SHEVCHENKO Oleksandr", "ШЕВЧЕНКО Олександр")
    assert ukrainian.cyrillic_transliterated and not ukrainian.latin_transliterated
    entered = name_in_scripts("Шевченко", "Олександр", (), ("pl", "uk", "en"))
    assert entered.cyrillic == "ШЕВЧЕНКО Олександр" and entered.latin_transliterated
    russian = name_in_scripts("Kuznetsov", "Sergei", (), ("de", "ru", "en"))
    assert russian.cyrillic == "КУЗНЕЦОВ Сергей" and russian.cyrillic_transliterated
    known = name_in_scripts("Ivanov", "Ivan", ("Иванов Иван",), ("de", "ru", "en"))
    assert known.cyrillic == "Иванов Иван" and not known.cyrillic_transliterated
    moldovan = name_in_scripts("Țurcanu", "Ștefan", (), ("ro", "en"))
    assert (moldovan.latin, moldovan.cyrillic) == ("ȚURCANU Ștefan", None)
