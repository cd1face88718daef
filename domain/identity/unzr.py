"""Ukraine's UNZR, the record number in the Unified State Demographic Register.

`YYYYMMDD-NNNNC`: the holder's birth date, a dash, a four-digit code from 0001 to 9999, and a check
digit computed with the MRZ 7-3-1 method over the twelve preceding digits. It is printed on the ID
card and never changes, so it ties documents of one person together even across name changes.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict

from domain.identity.mrz import Check, check_digit

_SHAPE = re.compile(r"([0-9]{8})-?([0-9]{4})([0-9])")


class UnzrResult(BaseModel):
    """The verdict on one UNZR; `well_formed` is False when the input has the wrong shape."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    well_formed: bool
    valid: bool
    reason: str
    birth_date: date | None = None
    check: Check | None = None


def unzr_check_digit(first_twelve: str) -> int:
    """The check digit for the birth date and code, given with or without the dash."""
    digits = first_twelve.replace("-", "")
    if len(digits) != 12 or not digits.isdigit():
        raise ValueError(f"a UNZR check digit covers 12 digits, got {first_twelve!r}")
    return check_digit(digits)


def validate_unzr(number: str) -> UnzrResult:
    """Check the shape, the embedded birth date, the code and the check digit of a UNZR.

    Surrounding whitespace is ignored and the dash may be omitted; the result carries the number
    in its canonical `YYYYMMDD-NNNNC` form.
    """
    text = number.strip()
    shape = _SHAPE.fullmatch(text)
    if shape is None:
        return UnzrResult(
            number=text,
            well_formed=False,
            valid=False,
            reason=f"{text!r} is not a UNZR: expected YYYYMMDD-NNNNC (8 digits, dash, 5 digits)",
        )
    ymd, code, printed = shape.groups()
    canonical = f"{ymd}-{code}{printed}"
    computed = str(check_digit(ymd + code))
    check = Check(
        name="unzr",
        kind="check_digit",
        data=ymd + code,
        expected=computed,
        actual=printed,
        ok=computed == printed,
    )
    birth = _date(ymd)
    if birth is None:
        reason = f"{ymd} is not a calendar date"
    elif code == "0000":
        reason = "the code after the birth date runs from 0001 to 9999, got 0000"
    elif not check.ok:
        reason = f"check digit is {printed}, expected {computed}"
    else:
        reason = "valid"
    return UnzrResult(
        number=canonical,
        well_formed=True,
        valid=reason == "valid",
        reason=reason,
        birth_date=birth,
        check=check,
    )


def make_unzr(birth_date: date, code: int) -> str:
    """The UNZR for a birth date and a code 1–9999, check digit included (for tests and forms)."""
    if not 1 <= code <= 9999:
        raise ValueError(f"a UNZR code runs from 1 to 9999, got {code}")
    head = f"{birth_date:%Y%m%d}{code:04d}"
    return f"{head[:8]}-{head[8:]}{check_digit(head)}"


def _date(ymd: str) -> date | None:
    try:
        return date(int(ymd[0:4]), int(ymd[4:6]), int(ymd[6:8]))
    except ValueError:
        return None
