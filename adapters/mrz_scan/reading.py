"""From Tesseract's text of a band to a checked MRZ: the lines cleaned and fitted to the
Doc 9303 shapes, parsed by `domain.identity.mrz` (the one implementation of the check digits),
and a few well-known OCR confusions undone where only digits may stand."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from domain.identity.mrz import MrzResult, NotAnMrz, parse_mrz

_SHAPES = ((3, 30), (2, 44), (2, 36))
_DIGITS = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5",
                         "G": "6", "B": "8"})  # fmt: skip
_LETTERS = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"})
# positions that hold only digits (or '<'), per line width and line: dates and check digits
_NUMERIC: dict[int, dict[int, list[int]]] = {
    44: {1: [9, *range(13, 20), *range(21, 28), 43]},
    36: {1: [9, *range(13, 20), *range(21, 28), 35]},
    30: {1: [*range(0, 7), *range(8, 15), 29]},
}
# positions that hold only letters (or '<'): document code, states, nationality
_ALPHA: dict[int, dict[int, list[int]]] = {
    44: {0: list(range(0, 5)), 1: [10, 11, 12]},
    36: {0: list(range(0, 5)), 1: [10, 11, 12]},
    30: {0: list(range(0, 5)), 1: [15, 16, 17]},
}
# where the name field is: (line, first position)
_NAME = {44: (0, 5), 36: (0, 5), 30: (2, 0)}
# optional data that ends in fillers: (line, first, end)
_OPTIONAL = {44: [(1, 28, 42)], 36: [(1, 28, 35)], 30: [(0, 15, 30), (1, 18, 29)]}
_FILLER_LOOKALIKES = set("<KEXCLS")
_SOUP = re.compile("<[<KEX]*(?:<|$)")


def candidate_lines(text: str) -> list[str]:
    """Tesseract's lines with spaces removed, only those long enough to be MRZ lines."""
    lines = ["".join(line.split()).upper() for line in text.splitlines()]
    return [line for line in lines if len(line) >= 24]


def _fit(line: str, width: int) -> str | None:
    """The line at `width` characters, None if too far off. Tesseract reads a run of fillers
    as fillers mixed with the letters '<' resembles, and shortens or lengthens it: such runs
    become fillers, and the longest run of fillers takes up the difference in length."""
    line = _desouped(line)
    if not -6 <= width - len(line) <= 12:  # long runs of fillers lose the most
        return None
    runs = [(m.end() - m.start(), m.start(), m.end()) for m in re.finditer("<+", line)]
    if len(line) > width:
        length, _, end = max(runs, default=(0, 0, 0))
        if length - 1 < len(line) - width:
            return None
        return line[: end - (len(line) - width)] + line[end:]
    missing = width - len(line)
    if not runs:
        return line + "<" * missing
    _, _, end = max(runs)
    return line[:end] + "<" * missing + line[end:]


def _desouped(line: str) -> str:
    return _SOUP.sub(lambda m: "<" * len(m[0]) if m[0].count("<") >= 3 else m[0], line)


def _repaired(rows: list[str]) -> list[str]:
    """Digits where only digits may stand, letters where only letters, and the name's trailing
    fillers restored where Tesseract read some of them as the letters a '<' resembles."""
    width = len(rows[0])
    fixed = [list(row) for row in rows]
    for table, positions_of in ((_DIGITS, _NUMERIC), (_LETTERS, _ALPHA)):
        for index, positions in positions_of[width].items():
            for pos in positions:
                fixed[index][pos] = fixed[index][pos].translate(table)
    line, first = _NAME[width]
    name = "".join(fixed[line][first:]).translate(_LETTERS)
    fixed[line][first:] = list(_fillers_restored(name))
    for line, first, end in _OPTIONAL[width]:
        fixed[line][first:end] = list(_fillers_restored("".join(fixed[line][first:end])))
    return ["".join(chars) for chars in fixed]


def _fillers_restored(name: str) -> str:
    """The longest tail that starts with '<', holds three '<' in its first four characters and
    otherwise only filler look-alikes (K, E, X, C, L) becomes all fillers."""
    for start, char in enumerate(name):
        tail = name[start:]
        if (
            char == "<"
            and set(tail) <= _FILLER_LOOKALIKES
            and tail[:4].count("<") >= min(3, len(tail))
        ):
            return name[:start] + "<" * len(tail)
    return name


@dataclass(frozen=True)
class Reading:
    """The zone's lines as fitted and repaired, and their parse."""

    rows: tuple[str, ...]
    result: MrzResult


def fitted(text: str) -> list[tuple[str, ...]]:
    """Every run of OCR lines that fits a Doc 9303 shape, at that shape's widths."""
    lines = candidate_lines(text)
    found: list[tuple[str, ...]] = []
    for count, width in _SHAPES:
        for start in range(len(lines) - count + 1):
            rows = [_fit(line, width) for line in lines[start : start + count]]
            if all(row is not None for row in rows):
                found.append(tuple(row for row in rows if row is not None))
    return found


def alternatives(text: str) -> list[tuple[str, ...]]:
    """Where a line is one character too long, Tesseract may have read one character as two
    (OCR-B's `O` and `L` side by side): the shape's fits with each single character dropped
    from that line instead of a filler, for the check digits to choose from."""
    lines = candidate_lines(text)
    found: list[tuple[str, ...]] = []
    for count, width in _SHAPES:
        for start in range(len(lines) - count + 1):
            group = lines[start : start + count]
            rows = [_fit(line, width) for line in group]
            for index, line in enumerate(group):
                plain = _desouped(line)
                others = rows[:index] + rows[index + 1 :]
                if len(plain) != width + 1 or any(row is None for row in others):
                    continue
                for cut in sorted({plain[:i] + plain[i + 1 :] for i in range(len(plain))}):
                    found.append(tuple(cut if i == index else str(r) for i, r in enumerate(rows)))
    return found


def parsed(candidates: list[tuple[str, ...]], today: date) -> list[Reading]:
    """Each candidate parsed as read and with its confusions repaired."""
    found: list[Reading] = []
    for rows in candidates:
        for attempt in (list(rows), _repaired(list(rows))):
            try:
                found.append(Reading(tuple(attempt), parse_mrz(attempt, today=today)))
            except NotAnMrz:
                continue
    return found


def voted(candidates: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Per shape read at least three times, the zone of each position's most frequent
    character: independent readings rarely err at the same place."""
    by_shape: dict[tuple[int, int], list[tuple[str, ...]]] = {}
    for rows in candidates:
        by_shape.setdefault((len(rows), len(rows[0])), []).append(tuple(_repaired(list(rows))))
    found = []
    for (count, width), group in by_shape.items():
        if len(group) < 3:
            continue
        found.append(
            tuple(
                "".join(
                    Counter(rows[i][pos] for rows in group).most_common(1)[0][0]
                    for pos in range(width)
                )
                for i in range(count)
            )
        )
    return found


def passed_digits(result: MrzResult) -> int:
    return sum(1 for c in result.checks if c.kind == "check_digit" and c.ok)


def score(reading: Reading) -> tuple[bool, int, int]:
    """Valid readings first, then the most check digits, then the most checks passed."""
    result = reading.result
    return result.valid, passed_digits(result), sum(1 for c in result.checks if c.ok)
