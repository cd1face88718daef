"""MRZ parsing and check digits (ICAO Doc 9303): specimens, every check, generated documents."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.identity.mrz import NotAnMrz, check_digit, parse_mrz

TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
TD1 = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
]
TD2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"]
ALPHABET = string.digits + string.ascii_uppercase + "<"
LETTERS = string.ascii_uppercase


def ref_digit(data: str) -> str:
    """An independent 7-3-1 check digit, so the tests do not trust the code they test."""
    values = [int(c) if c.isdigit() else 0 if c == "<" else ord(c) - ord("A") + 10 for c in data]
    return str(sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10)


def bump(digit: str) -> str:
    return str((int(digit) + 1) % 10)


def td3(
    surname: str = "ERIKSSON",
    given_names: str = "ANNA MARIA",
    number: str = "L898902C3",
    birth: str = "740812",
    sex: str = "F",
    expiry: str = "120415",
    personal: str = "ZE184226B",
    nationality: str = "UTO",
    corrupt: str | None = None,
) -> list[str]:
    """A TD3 MRZ from its fields, with one named check digit off by one when `corrupt` is set."""
    name = f"{surname}<<{given_names}".replace(" ", "<").ljust(39, "<")[:39]
    num, pn = number.ljust(9, "<"), personal.ljust(14, "<")
    digits = {"document_number": ref_digit(num), "birth_date": ref_digit(birth),
              "expiry_date": ref_digit(expiry), "personal_number": ref_digit(pn)}  # fmt: skip
    if corrupt in digits:
        digits[corrupt] = bump(digits[corrupt])
    l2 = (f"{num}{digits['document_number']}{nationality}{birth}{digits['birth_date']}{sex}"
          f"{expiry}{digits['expiry_date']}{pn}{digits['personal_number']}")  # fmt: skip
    composite = ref_digit(l2[0:10] + l2[13:20] + l2[21:43])
    return [f"P<UTO{name}", l2 + (bump(composite) if corrupt == "composite" else composite)]


def td1(line1: str, corrupt: str | None = None) -> list[str]:
    """The TD1 specimen with another line 1, line 2's composite recomputed, optionally corrupted."""
    l2 = TD1[1]
    digits = {"birth_date": l2[6], "expiry_date": l2[14]}
    if corrupt in digits:
        digits[corrupt] = bump(digits[corrupt])
    l2 = f"{l2[0:6]}{digits['birth_date']}{l2[7:14]}{digits['expiry_date']}{l2[15:29]}"
    composite = ref_digit(line1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    return [line1, l2 + (bump(composite) if corrupt == "composite" else composite), TD1[2]]


def td2(corrupt: str | None = None) -> list[str]:
    l2 = TD2[1]
    digits = {"document_number": l2[9], "birth_date": l2[19], "expiry_date": l2[27]}
    if corrupt in digits:
        digits[corrupt] = bump(digits[corrupt])
    l2 = f"{l2[0:9]}{digits['document_number']}{l2[10:19]}{digits['birth_date']}{l2[20:27]}"
    l2 += f"{digits['expiry_date']}{TD2[1][28:35]}"
    composite = ref_digit(l2[0:10] + l2[13:20] + l2[21:35])
    return [TD2[0], l2 + (bump(composite) if corrupt == "composite" else composite)]


def failed(lines: list[str]) -> list[str]:
    return [c.name for c in parse_mrz(lines).failed]


@pytest.mark.parametrize(("data", "digit"), [
    ("L898902C3", 6), ("740812", 2), ("120415", 9), ("ZE184226B<<<<<", 1), ("D23145890", 7),
    ("510509", 2), ("<<<<<<", 0), ("D23145890734", 9),
])  # fmt: skip
def test_check_digit_of_known_values(data: str, digit: int) -> None:
    assert check_digit(data) == digit


@given(st.text(ALPHABET, max_size=40))
def test_check_digit_agrees_with_the_reference(data: str) -> None:
    assert str(check_digit(data)) == ref_digit(data)


def test_check_digit_refuses_characters_outside_the_mrz_alphabet() -> None:
    with pytest.raises(ValueError, match="'a'"):
        check_digit("a12")


def test_td3_specimen() -> None:
    result = parse_mrz(TD3)
    assert (result.valid, result.format, result.failed) == (True, "TD3", ())
    f = result.fields
    assert (f.document_code, f.issuing_state, f.nationality, f.sex) == ("P", "UTO", "UTO", "F")
    assert (f.surname, f.given_names, f.document_number) == ("ERIKSSON", "ANNA MARIA", "L898902C3")
    assert (f.birth_date, f.expiry_date) == (date(1974, 8, 12), date(2012, 4, 15))
    assert (f.birth_date_raw, f.expiry_date_raw, f.optional_data) == (
        "740812",
        "120415",
        "ZE184226B",
    )
    names = [c.name for c in result.checks if c.kind == "check_digit"]
    assert names == ["document_number", "birth_date", "expiry_date", "personal_number", "composite"]
    assert [c.actual for c in result.checks if c.kind == "check_digit"] == list("62910")


def test_td1_specimen() -> None:
    result = parse_mrz(TD1)
    assert (result.valid, result.format) == (True, "TD1")
    f = result.fields
    assert (f.document_code, f.document_number, f.surname, f.given_names) == (
        "I", "D23145890", "ERIKSSON", "ANNA MARIA")  # fmt: skip
    assert (f.birth_date, f.expiry_date, f.sex, f.nationality) == (
        date(1974, 8, 12), date(2012, 4, 15), "F", "UTO")  # fmt: skip
    assert [c.name for c in result.checks if c.kind == "check_digit"] == [
        "document_number", "birth_date", "expiry_date", "composite"]  # fmt: skip


def test_td2_specimen() -> None:
    result = parse_mrz(TD2)
    assert (result.valid, result.format, result.fields.document_number) == (
        True,
        "TD2",
        "D23145890",
    )
    assert (result.fields.surname, result.fields.birth_date) == ("ERIKSSON", date(1974, 8, 12))


def test_builders_reproduce_the_specimens() -> None:
    assert td3() == TD3
    assert td1(TD1[0]) == TD1
    assert td2() == TD2


@pytest.mark.parametrize(
    "check", ["document_number", "birth_date", "expiry_date", "personal_number", "composite"]
)
def test_td3_each_check_fails_on_its_own(check: str) -> None:
    assert failed(td3(corrupt=check)) == [check]


@pytest.mark.parametrize("check", ["birth_date", "expiry_date", "composite"])
def test_td1_each_check_fails_on_its_own(check: str) -> None:
    assert failed(td1(TD1[0], corrupt=check)) == [check]


def test_td1_document_number_check_fails_on_its_own() -> None:
    assert failed(td1("I<UTOD231458908<<<<<<<<<<<<<<<")) == ["document_number"]


@pytest.mark.parametrize("check", ["document_number", "birth_date", "expiry_date", "composite"])
def test_td2_each_check_fails_on_its_own(check: str) -> None:
    assert failed(td2(corrupt=check)) == [check]


def test_td1_long_document_number_continues_in_the_optional_data() -> None:
    result = parse_mrz(td1("I<UTOD23145890<7349<<<<<<<<<<<"))
    assert result.valid
    assert result.fields.document_number == "D23145890734"
    assert result.fields.optional_data == ""
    assert failed(td1("I<UTOD23145890<7348<<<<<<<<<<<")) == ["document_number"]


@pytest.mark.parametrize(("field", "lines"), [
    ("sex", td3(sex="Q")), ("nationality", td3(nationality="U1O")), ("name", td3(surname="ER1K")),
    ("birth_date", td3(birth="741312")), ("expiry_date", td3(expiry="120230")),
    ("birth_date", td3(birth="74<812")),
])  # fmt: skip
def test_a_malformed_field_fails_its_format_check_alone(field: str, lines: list[str]) -> None:
    result = parse_mrz(lines)
    assert [(c.name, c.kind) for c in result.failed] == [(field, "format")]


def test_unknown_day_and_month_are_allowed_as_fillers() -> None:
    result = parse_mrz(td3(birth="74<<<<"))
    assert result.valid
    assert (result.fields.birth_date, result.fields.birth_date_raw) == (None, "74<<<<")


@pytest.mark.parametrize(("lines", "message"), [
    ([], "no MRZ"), (TD3[:1], "2 of 36"), ([TD3[0], TD3[1][:-1]], "44, 43"),
    ([TD3[0].lower(), TD3[1]], "line 1 position 1"), ([TD3[0], TD3[1].replace("<", " ", 1)], "' '"),
    (TD1[:2], "got 2 line(s) of 30, 30"), ("P<UTO", "got 1 line(s) of 5"),
])  # fmt: skip
def test_not_an_mrz(lines: list[str] | str, message: str) -> None:
    with pytest.raises(NotAnMrz) as caught:
        parse_mrz(lines)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_surrounding_whitespace_and_one_string_are_accepted() -> None:
    assert parse_mrz(f"\n  {TD3[0]}  \r\n\t{TD3[1]}\n").valid
    assert parse_mrz([f" {line} " for line in TD1]).valid


def test_birth_century_follows_today_then_expiry() -> None:
    young = td3(birth="150101", expiry="300101")
    assert parse_mrz(young, today=date(2025, 1, 1)).fields.birth_date == date(2015, 1, 1)
    assert parse_mrz(young, today=date(2014, 1, 1)).fields.birth_date == date(1915, 1, 1)
    by_expiry = parse_mrz(young).fields
    assert (by_expiry.birth_date, by_expiry.birth_date_basis) == (date(2015, 1, 1), "expiry")
    assert parse_mrz(TD3, today=date(2025, 6, 1)).fields.birth_date_basis == "today"


def test_result_is_frozen() -> None:
    result = parse_mrz(TD3)
    with pytest.raises(ValidationError):
        result.valid = False  # type: ignore[misc]


def test_check_digits_cannot_see_substitutions_ten_apart() -> None:
    """Doc 9303's known blind spot: 3 and D (13) weigh the same modulo 10."""
    blind = [TD3[0], TD3[1].replace("L898902C3", "L898902CD")]
    assert parse_mrz(blind).valid


def _checked_positions(fmt: str) -> list[tuple[int, int, bool]]:
    """(line, position, alphanumeric data?) of every character covered by a check digit."""
    if fmt == "TD3":
        spans = [(1, 0, 9, True), (1, 9, 10, False), (1, 13, 20, False), (1, 21, 28, False),
                 (1, 28, 42, True), (1, 42, 44, False)]  # fmt: skip
    elif fmt == "TD2":
        spans = [(1, 0, 9, True), (1, 9, 10, False), (1, 13, 20, False), (1, 21, 28, False),
                 (1, 28, 35, True), (1, 35, 36, False)]  # fmt: skip
    else:
        spans = [(0, 5, 14, True), (0, 14, 15, False), (0, 15, 30, True), (1, 0, 7, False),
                 (1, 8, 15, False), (1, 18, 29, True), (1, 29, 30, False)]  # fmt: skip
    return [(line, pos, alnum) for line, start, end, alnum in spans for pos in range(start, end)]


def _value(char: str) -> int:
    return 0 if char == "<" else int(char, 36)


def _invalid_or_not_an_mrz(lines: list[str]) -> bool:
    try:
        return not parse_mrz(lines).valid
    except NotAnMrz:
        return True


@pytest.mark.parametrize(("fmt", "specimen"), [("TD1", TD1), ("TD2", TD2), ("TD3", TD3)])
def test_every_single_change_in_a_checked_field_is_caught(fmt: str, specimen: list[str]) -> None:
    for line, pos, alnum in _checked_positions(fmt):
        old = specimen[line][pos]
        for new in ALPHABET.replace(old, ""):
            if alnum and _value(new) % 10 == _value(old) % 10:
                continue  # the blind spot above
            changed = list(specimen)
            changed[line] = changed[line][:pos] + new + changed[line][pos + 1 :]
            assert _invalid_or_not_an_mrz(changed), (fmt, line, pos, old, new)


names = st.text(LETTERS, min_size=1, max_size=15)
fields = st.fixed_dictionaries({
    "surname": names, "given_names": names, "number": st.text(LETTERS + string.digits, min_size=1,
    max_size=9), "birth": st.dates(date(1931, 1, 1), date(2029, 12, 31)),
    "expiry": st.dates(date(2000, 1, 1), date(2079, 12, 31)), "sex": st.sampled_from("MFX"),
    "personal": st.text(LETTERS + string.digits, max_size=14),
    "nationality": st.text(LETTERS, min_size=3, max_size=3),
})  # fmt: skip


def _generated(f: dict[str, object]) -> list[str]:
    birth, expiry = f["birth"], f["expiry"]
    assert isinstance(birth, date) and isinstance(expiry, date)
    return td3(**{**f, "birth": f"{birth:%y%m%d}", "expiry": f"{expiry:%y%m%d}"})  # type: ignore[arg-type]


@given(fields)
def test_generated_td3_is_valid_and_reads_back(f: dict[str, object]) -> None:
    result = parse_mrz(_generated(f), today=date(2030, 1, 1))
    assert result.valid, result.failed
    got = result.fields
    assert (got.surname, got.given_names, got.document_number, got.optional_data) == (
        f["surname"], f["given_names"], f["number"], f["personal"])  # fmt: skip
    assert (got.birth_date, got.expiry_date, got.sex) == (f["birth"], f["expiry"], f["sex"])


@given(fields, st.data())
def test_generated_td3_with_one_changed_checked_character_is_invalid(
    f: dict[str, object], data: st.DataObject
) -> None:
    lines = _generated(f)
    line, pos, alnum = data.draw(st.sampled_from(_checked_positions("TD3")))
    old = lines[line][pos]
    new = data.draw(st.sampled_from(ALPHABET.replace(old, "")))
    assume(not (alnum and _value(new) % 10 == _value(old) % 10))
    empty_personal = lines[1][28:42] == "<" * 14
    assume(not (pos == 42 and empty_personal and {old, new} == {"0", "<"}))  # both allowed
    changed = list(lines)
    changed[line] = lines[line][:pos] + new + lines[line][pos + 1 :]
    assert _invalid_or_not_an_mrz(changed)
