"""Machine-readable zones (ICAO Doc 9303 parts 4–6): TD3 passports, TD1 and TD2 cards.

`parse_mrz` reads the fields and reports every check digit and every field-format check, so a
caseworker sees which part of a scanned or typed MRZ is wrong instead of a bare "invalid".
Check digits have a blind spot: the weights 7, 3, 1 are coprime to 10, so substituting a
character whose value differs by a multiple of 10 (`0`/`A`/`K`/`U`, `<`/`0`) goes unnoticed;
dates and check digits are also format-checked to narrow it. Visas (MRV-A/B) are not handled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUES: dict[str, int] = {c: i for i, c in enumerate(_CHARSET)} | {"<": 0}
_WEIGHTS = (7, 3, 1)
MrzFormat = Literal["TD1", "TD2", "TD3"]
_SHAPES: dict[tuple[int, int], MrzFormat] = {(3, 30): "TD1", (2, 36): "TD2", (2, 44): "TD3"}
BirthDateBasis = Literal["today", "expiry", "assumed"]


class NotAnMrz(ValueError):
    """The input is not a machine-readable zone at all (shape or alphabet), not merely invalid."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Check(_Frozen):
    """One verification: a check digit computed over `data`, or the format of one field.

    For a check digit `expected` is the digit computed from `data` and `actual` the one printed;
    for a format check `expected` describes the format and `actual` is the field as printed.
    """

    name: str
    kind: Literal["check_digit", "format"]
    data: str
    expected: str
    actual: str
    ok: bool


class MrzFields(_Frozen):
    """The data fields of an MRZ, fillers removed; raw dates are kept beside the resolved ones."""

    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    name_possibly_truncated: bool
    document_number: str
    nationality: str
    birth_date_raw: str
    birth_date: date | None
    birth_date_basis: BirthDateBasis | None
    sex: str
    expiry_date_raw: str
    expiry_date: date | None
    optional_data: str
    optional_data_2: str = ""


class MrzResult(_Frozen):
    """A parsed MRZ: valid only when every check in `checks` passed."""

    valid: bool
    format: MrzFormat
    fields: MrzFields
    checks: tuple[Check, ...]

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


def check_digit(data: str) -> int:
    """The Doc 9303 check digit of `data`: values 0–9, A–Z = 10–35, `<` = 0, weights 7-3-1."""
    try:
        return sum(_VALUES[c] * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} cannot appear in an MRZ") from None


def parse_mrz(lines: str | Sequence[str], *, today: date | None = None) -> MrzResult:
    """Parse and verify an MRZ given as one string (lines separated by newlines) or as lines.

    `today` resolves two-digit years (birth dates lie in the past); without it the expiry date
    serves as the reference. Raises `NotAnMrz` when the shape or the alphabet is wrong.
    """
    rows = _rows(lines)
    fmt = _SHAPES.get((len(rows), len(rows[0])))
    if fmt is None or any(len(r) != len(rows[0]) for r in rows):
        shape = f"{len(rows)} line(s) of {', '.join(str(len(r)) for r in rows)} characters"
        raise NotAnMrz(f"an MRZ has 3 lines of 30 (TD1) or 2 of 36 (TD2) or 44 (TD3); got {shape}")
    for n, row in enumerate(rows, 1):
        for pos, char in enumerate(row, 1):
            if char not in _VALUES:
                raise NotAnMrz(f"line {n} position {pos}: {char!r} is not one of A-Z, 0-9, '<'")
    if fmt == "TD1":
        return _td1(rows, today)
    return _td2_td3(rows, fmt, today)


def _rows(lines: str | Sequence[str]) -> list[str]:
    rows = lines.strip().splitlines() if isinstance(lines, str) else list(lines)
    rows = [r.strip() for r in rows]
    if not any(rows):
        raise NotAnMrz("no MRZ lines given")
    return rows


def _td1(rows: list[str], today: date | None) -> MrzResult:
    l1, l2, l3 = rows
    number, number_check, optional = _document_number(l1[5:14], l1[14], l1[15:30])
    composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    return _assemble(
        "TD1", today, code=l1[0:2], state=l1[2:5], name_field=l3, number=number,
        number_check=number_check, nationality=l2[15:18], birth=l2[0:6], birth_printed=l2[6],
        sex=l2[7], expiry=l2[8:14], expiry_printed=l2[14], optional=optional,
        extra_checks=[_digit("composite", composite, l2[29])], optional_2=l2[18:29].rstrip("<"),
    )  # fmt: skip


def _td2_td3(rows: list[str], fmt: MrzFormat, today: date | None) -> MrzResult:
    l1, l2 = rows
    if fmt == "TD3":
        number, number_check = l2[0:9].rstrip("<"), _digit("document_number", l2[0:9], l2[9])
        optional = l2[28:42].rstrip("<")
        extra = [_digit("personal_number", l2[28:42], l2[42])]
        composite = l2[0:10] + l2[13:20] + l2[21:43]
    else:
        number, number_check, optional = _document_number(l2[0:9], l2[9], l2[28:35])
        extra = []
        composite = l2[0:10] + l2[13:20] + l2[21:35]
    extra.append(_digit("composite", composite, l2[-1]))
    return _assemble(
        fmt, today, code=l1[0:2], state=l1[2:5], name_field=l1[5:], number=number,
        number_check=number_check, nationality=l2[10:13], birth=l2[13:19], birth_printed=l2[19],
        sex=l2[20], expiry=l2[21:27], expiry_printed=l2[27], optional=optional, extra_checks=extra,
    )  # fmt: skip


def _document_number(head: str, printed: str, optional: str) -> tuple[str, Check, str]:
    """Number, its check and the rest of the optional data, with Doc 9303's long-number rule.

    A number longer than 9 characters puts `<` in the check-digit position and continues in the
    optional data, where its last character before the next `<` is the check digit.
    """
    overflow = optional.split("<", 1)[0]
    if printed == "<" and len(overflow) >= 2:
        number = head + overflow[:-1]
        rest = optional[len(overflow) + 1 :].rstrip("<")
        return number, _digit("document_number", number, overflow[-1]), rest
    return head.rstrip("<"), _digit("document_number", head, printed), optional.rstrip("<")


def _assemble(
    fmt: MrzFormat,
    today: date | None,
    *,
    code: str,
    state: str,
    name_field: str,
    number: str,
    number_check: Check,
    nationality: str,
    birth: str,
    birth_printed: str,
    sex: str,
    expiry: str,
    expiry_printed: str,
    optional: str,
    extra_checks: list[Check],
    optional_2: str = "",
) -> MrzResult:
    expiry_date, expiry_ok = _expiry(expiry, today)
    birth_date, basis, birth_ok = _birth(birth, today, expiry_date)
    surname, _, given = name_field.partition("<<")
    checks = [
        number_check,
        _digit("birth_date", birth, birth_printed),
        _digit("expiry_date", expiry, expiry_printed),
        *extra_checks,
        _format("document_code", code, "a letter, then a letter or '<'", _is_code(code)),
        _format("issuing_state", state, "3 letters or '<'", _alpha(state)),
        _format("nationality", nationality, "3 letters or '<'", _alpha(nationality)),
        _format("birth_date", birth, "YYMMDD ('<' where unknown)", birth_ok),
        _format("expiry_date", expiry, "YYMMDD ('<' where unknown)", expiry_ok),
        _format("sex", sex, "M, F, X or '<'", sex in "MFX<"),
        _format("name", name_field, "letters and '<'", _alpha(name_field)),
    ]
    fields = MrzFields(
        document_code=code.rstrip("<"),
        issuing_state=state.rstrip("<"),
        surname=surname.replace("<", " ").strip(),
        given_names=" ".join(given.replace("<", " ").split()),
        name_possibly_truncated=not name_field.endswith("<"),
        document_number=number,
        nationality=nationality.rstrip("<"),
        birth_date_raw=birth,
        birth_date=birth_date,
        birth_date_basis=basis,
        sex="X" if sex == "<" else sex,
        expiry_date_raw=expiry,
        expiry_date=expiry_date,
        optional_data=optional,
        optional_data_2=optional_2,
    )
    return MrzResult(
        valid=all(c.ok for c in checks), format=fmt, fields=fields, checks=tuple(checks)
    )


def _digit(name: str, data: str, printed: str) -> Check:
    computed = str(check_digit(data))
    all_filler = computed == "0" and not data.strip("<")
    ok = printed == computed or (printed == "<" and all_filler)
    return Check(name=name, kind="check_digit", data=data, expected=computed, actual=printed, ok=ok)


def _format(name: str, actual: str, expected: str, ok: bool) -> Check:
    return Check(name=name, kind="format", data=actual, expected=expected, actual=actual, ok=ok)


def _alpha(text: str) -> bool:
    return all(c == "<" or c.isalpha() for c in text)


def _is_code(code: str) -> bool:
    return code[0].isalpha() and (code[1] == "<" or code[1].isalpha())


def _ymd(raw: str) -> tuple[bool, tuple[int, int, int] | None]:
    """Whether a YYMMDD field is well formed, and its numbers unless partly unknown.

    Doc 9303 fills an unknown day or month (or the whole date) with `<<`; a lone `<` is malformed.
    """
    pairs = (raw[0:2], raw[2:4], raw[4:6])
    if "<<" in pairs and all(p == "<<" or p.isdigit() for p in pairs):
        return True, None
    if not raw.isdigit() or not (1 <= int(raw[2:4]) <= 12 and 1 <= int(raw[4:6]) <= 31):
        return False, None
    return True, (int(raw[0:2]), int(raw[2:4]), int(raw[4:6]))


def _on(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _expiry(raw: str, today: date | None) -> tuple[date | None, bool]:
    """Expiry years are taken as 20YY, or 19YY when that is over 50 years after `today`."""
    well_formed, ymd = _ymd(raw)
    if ymd is None:
        return None, well_formed
    yy, mm, dd = ymd
    year = 2000 + yy
    if today is not None and year > today.year + 50:
        year -= 100
    resolved = _on(year, mm, dd)
    return resolved, resolved is not None


def _birth(
    raw: str, today: date | None, expiry: date | None
) -> tuple[date | None, BirthDateBasis | None, bool]:
    """The latest century that puts the birth date on or before the reference date."""
    well_formed, ymd = _ymd(raw)
    if ymd is None:
        return None, None, well_formed
    yy, mm, dd = ymd
    basis: BirthDateBasis = "today" if today else "expiry" if expiry else "assumed"
    ref = today or expiry
    if ref is None:
        year = 2000 + yy if yy < 30 else 1900 + yy
    else:
        year = ref.year // 100 * 100 + yy
        if (year, mm, dd) > (ref.year, ref.month, ref.day):
            year -= 100
    resolved = _on(year, mm, dd)
    return resolved, basis if resolved else None, resolved is not None


def read_mrz(lines: Sequence[str], today: date) -> MrzResult:
    """The MRZ given as lines (or one string holding them all), checked; raises `NotAnMrz`.
    The CLI's `readmit identity mrz` and the API's `POST /identity/mrz` both answer with it."""
    return parse_mrz("\n".join(lines), today=today)
