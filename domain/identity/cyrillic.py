"""A person's name in both scripts a case uses: Latin and, where a party writes Cyrillic, Cyrillic.

Printed forms carry the name as each state writes it. A name entered in Cyrillic is romanised
with the Ukrainian passport system (Cabinet Resolution No. 55 of 27 Jan 2010, the system the
name matcher tries first); a name entered in Latin takes its Cyrillic form from the person's
other names when one is written in Cyrillic, or else back-transliterates under the same
system, which is marked as such: the soft sign and some vowels cannot be recovered from Latin.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import translitua

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:['’ʼ][A-Za-z]+)*")
_VOWELS = frozenset("aeiouy")
# Cabinet Resolution No. 55 in reverse: longest Latin groups first.
_GROUPS = (
    ("shch", "щ"), ("zgh", "зг"), ("kh", "х"), ("zh", "ж"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"),
    ("ie", "є"), ("iu", "ю"), ("ia", "я"),
)  # fmt: skip
_INITIAL = (("ye", "є"), ("yi", "ї"), ("yu", "ю"), ("ya", "я"))
_LETTERS = dict(zip("abvhgdezyiklmnoprstuf", "абвгґдезиіклмнопрстуф", strict=True)) | {
    "'": "ʼ", "’": "ʼ", "ʼ": "ʼ",
}  # fmt: skip

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
    return _LATIN_WORD.sub(lambda m: _cased(m.group(0), _word(m.group(0).lower())), text)


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
    if "uk" in languages:
        return NameInScripts(
            latin=entered, cyrillic=ukrainian_from_latin(entered), cyrillic_transliterated=True
        )
    return NameInScripts(latin=entered, cyrillic=None)


def _word(word: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(word):
        if i == 0:
            initial = next((c for latin, c in _INITIAL if word.startswith(latin)), None)
            if initial is not None:
                out.append(initial)
                i += 2
                continue
        group = next(((lat, c) for lat, c in _GROUPS if word.startswith(lat, i)), None)
        if group is not None and not (group[0][0] == "i" and i == 0):
            out.append(group[1])
            i += len(group[0])
            continue
        letter = word[i]
        if letter == "i" and i == len(word) - 1 and i > 0 and word[i - 1] in _VOWELS:
            out.append("й")  # Andrii, Mykolai: a final i after a vowel is й
        else:
            out.append(_LETTERS.get(letter, letter))
        i += 1
    return "".join(out)


def _cased(original: str, converted: str) -> str:
    if original.isupper():
        return converted.upper()
    if original[:1].isupper():
        return converted[:1].upper() + converted[1:]
    return converted
