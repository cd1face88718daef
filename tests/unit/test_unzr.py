"""UNZR (Ukraine's demographic register number): shape, birth date, code and check digit."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity.unzr import make_unzr, unzr_check_digit, validate_unzr

# 7-3-1 over 199005170123: 1*7+9*3+9*1+0*7+0*3+5*1+1*7+7*3+0*1+1*7+2*3+3*1 = 92 -> 2
KNOWN = "19900517-01232"


def test_known_number_is_valid_and_carries_its_birth_date() -> None:
    result = validate_unzr(KNOWN)
    assert (result.well_formed, result.valid, result.reason) == (True, True, "valid")
    assert result.birth_date == date(1990, 5, 17)
    assert result.check is not None
    assert (result.check.expected, result.check.actual, result.check.ok) == ("2", "2", True)


def test_check_digit_with_and_without_the_dash() -> None:
    assert unzr_check_digit("19900517-0123") == unzr_check_digit("199005170123") == 2


@pytest.mark.parametrize("bad", ["1990051701", "19900517-012a", "", "19900517-01233"])
def test_check_digit_needs_exactly_twelve_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="12 digits"):
        unzr_check_digit(bad)


@given(st.dates(date(1900, 1, 1), date(2099, 12, 31)), st.integers(1, 9999))
def test_made_numbers_validate_and_round_trip(birth: date, code: int) -> None:
    number = make_unzr(birth, code)
    result = validate_unzr(number)
    assert result.valid, result.reason
    assert result.birth_date == birth
    assert result.number == number
    assert int(number[-1]) == unzr_check_digit(number[:-1])


def test_every_single_digit_change_is_caught() -> None:
    digits = [i for i, c in enumerate(KNOWN) if c != "-"]
    for pos in digits:
        for new in "0123456789".replace(KNOWN[pos], ""):
            changed = KNOWN[:pos] + new + KNOWN[pos + 1 :]
            result = validate_unzr(changed)
            assert result.well_formed and not result.valid, changed


def test_wrong_check_digit_says_which_was_expected() -> None:
    result = validate_unzr("19900517-01230")
    assert not result.valid
    assert result.reason == "check digit is 0, expected 2"


def test_impossible_birth_date_is_refused_even_with_a_matching_digit() -> None:
    head = "199002300001"  # 30 February
    result = validate_unzr(f"{head[:8]}-{head[8:]}{unzr_check_digit(head)}")
    assert (result.well_formed, result.valid, result.birth_date) == (True, False, None)
    assert "not a calendar date" in result.reason


def test_code_0000_is_refused() -> None:
    head = "199005170000"
    result = validate_unzr(f"{head[:8]}-{head[8:]}{unzr_check_digit(head)}")
    assert result.check is not None and result.check.ok
    assert not result.valid and "0001 to 9999" in result.reason


def test_whitespace_and_a_missing_dash_are_accepted_and_canonicalised() -> None:
    result = validate_unzr("  1990051701232 \n")
    assert result.valid and result.number == KNOWN


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "19900517-0123",
        "19900517-012322",
        "1990-05-17-01232",
        "19900517 01232",
        "١٩٩٠٠٥١٧-٠١٢٣٢",
    ],
)
def test_wrong_shape_is_not_well_formed(text: str) -> None:
    result = validate_unzr(text)
    assert (result.well_formed, result.valid, result.check) == (False, False, None)
    assert "YYYYMMDD-NNNNC" in result.reason


def test_make_unzr_refuses_codes_out_of_range() -> None:
    with pytest.raises(ValueError, match="1 to 9999"):
        make_unzr(date(1990, 5, 17), 0)
