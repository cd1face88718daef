"""A person's name in both scripts a case uses: Latin and, where a party writes Cyrillic, Cyrillic.

Printed forms carry the name as each state writes it. A name entered in Cyrillic is romanised
with the Ukrainian passport system (Cabinet Resolution No. 55 of 27 Jan 2010, the system the
name matcher tries first); a name entered in Latin takes its Cyrillic form from the person's
other names when one is written in Cyrillic, or else back-transliterates under the passport
system of the Cyrillic party (Ukrainian KMU 2010, Russian ICAO 2013), which is marked as such:
the soft sign and some vowels cannot be recovered from Latin.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import translitua

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:['’ʼ][A-Za-z]+)*")
_VOWELS = frozenset("aeiouy")


@dataclass(frozen=True)
class _Table:
    """A romanisation in reverse: Latin groups (longest first), groups read so only at the start
    of a word, single letters; a final i after a vowel is й (Andrii, Sergei)."""

    groups: tuple[tuple[str, str], ...]
    initial: tuple[tuple[str, str], ...]
    letters: dict[str, str]
    initial_groups: bool  # whether `groups` apply at a word's start too


_APOSTROPHES = {"'": "ʼ", "’": "ʼ", "ʼ": "ʼ"}
# Cabinet Resolution No. 55 (Ukrainian passports since 2010) in reverse.
_UKRAINIAN = _Table(
    groups=(
        ("shch", "щ"), ("zgh", "зг"), ("kh", "х"), ("zh", "ж"), ("ts", "ц"), ("ch", "ч"),
        ("sh", "ш"), ("ie", "є"), ("iu", "ю"), ("ia", "я"),
    ),
    initial=(("ye", "є"), ("yi", "ї"), ("yu", "ю"), ("ya", "я")),
    letters=dict(zip("abvhgdezyiklmnoprstuf", "абвгґдезиіклмнопрстуф", strict=True))
    | _APOSTROPHES,
    initial_groups=False,
)  # fmt: skip
# ICAO Doc 9303 (Russian passports since 2013) in reverse, with the older spellings' y-, j-.
_RUSSIAN = _Table(
    groups=(
        ("shch", "щ"), ("kh", "х"), ("zh", "ж"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"),
        ("iu", "ю"), ("ia", "я"), ("iy", "ий"), ("yy", "ый"),
    ),
    initial=(("ye", "е"), ("yo", "ё"), ("yu", "ю"), ("ya", "я")),
    letters=dict(zip("abvgdezijklmnoprstufhycwx", "абвгдезийклмнопрстуфхыцвх", strict=True))
    | _APOSTROPHES,
    initial_groups=True,
)  # fmt: skip

CYRILLIC_LANGUAGES = frozenset({"uk", "ru", "be", "bg", "sr", "mk"})


@dataclass(frozen=True)
class NameInScripts:
    """The full name (surname in capitals, then given names) in Latin and in Cyrillic;
    `cyrillic` is None when the case uses no Cyrillic and none was entered."""

    latin: str
    cyrillic: str | None
    cyrillic_transliterated: bool = False
    latin_transliterated: bool = False


def has_cyrillic(text: str) -> bool:
    return bool(_CYRILLIC.search(text))


def ukrainian_from_latin(text: str) -> str:
    """`text` with every Latin word back-transliterated to Ukrainian Cyrillic (KMU 2010);
    other characters are kept. "SHEVCHENKO Oleksandr" -> "ШЕВЧЕНКО Олександр"."""
    return _reverse(text, _UKRAINIAN)


def russian_from_latin(text: str) -> str:
    """`text` with every Latin word back-transliterated to Russian Cyrillic (ICAO 2013):
    "IVANOV Dmitrii" -> "ИВАНОВ Дмитрий"."""
    return _reverse(text, _RUSSIAN)


def _reverse(text: str, table: _Table) -> str:
    return _LATIN_WORD.sub(lambda m: _cased(m.group(0), _word(m.group(0).lower(), table)), text)


def latin_from_cyrillic(text: str) -> str:
    """`text` romanised as a Ukrainian passport would (KMU 2010), a word in capitals in
    capitals."""

    def romanised(word: str) -> str:
        latin = str(translitua.translit(word, translitua.UkrainianKMU))
        return latin.upper() if word.isupper() else latin

    return re.sub(r"\S+", lambda m: romanised(m.group(0)), text)


def name_in_scripts(
    surname: str, given_names: str, other_names: Sequence[str], languages: Sequence[str]
) -> NameInScripts:
    """The name as the case's `languages` (its parties' languages) need it printed."""
    entered = f"{surname.upper()} {given_names}"
    if has_cyrillic(entered):
        return NameInScripts(
            latin=latin_from_cyrillic(entered), cyrillic=entered, latin_transliterated=True
        )
    written = next((name for name in other_names if has_cyrillic(name)), None)
    if written is not None:
        return NameInScripts(latin=entered, cyrillic=written)
    reverse = next((_BY_LANGUAGE[lang] for lang in languages if lang in _BY_LANGUAGE), None)
    if reverse is not None:
        return NameInScripts(
            latin=entered, cyrillic=_reverse(entered, reverse), cyrillic_transliterated=True
        )
    return NameInScripts(latin=entered, cyrillic=None)


_BY_LANGUAGE = {"uk": _UKRAINIAN, "ru": _RUSSIAN}


def _word(word: str, table: _Table) -> str:
    out: list[str] = []
    i = 0
    while i < len(word):
        if i == 0:
            initial = next((c for latin, c in table.initial if word.startswith(latin)), None)
            if initial is not None:
                out.append(initial)
                i += 2
                continue
        group = next(((lat, c) for lat, c in table.groups if word.startswith(lat, i)), None)
        if group is not None and (i > 0 or table.initial_groups or group[0][0] != "i"):
            out.append(group[1])
            i += len(group[0])
            continue
        letter = word[i]
        if letter == "i" and i == len(word) - 1 and i > 0 and word[i - 1] in _VOWELS:
            out.append("й")  # Andrii, Mykolai, Sergei: a final i after a vowel is й
        else:
            out.append(table.letters.get(letter, letter))
        i += 1
    return "".join(out)


def _cased(original: str, converted: str) -> str:
    if original.isupper():
        return converted.upper()
    if original[:1].isupper():
        return converted[:1].upper() + converted[1:]
    return converted
