"""The printed forms' wording: each label in English, Polish, Ukrainian, Romanian, German and
Russian, and which language each state's authorities write.

A form is printed in its case's language pair with English (the agreements' annexes are filled
in that way between an EU Member State and its neighbour): every label reads, for example,
"Nazwisko / Прізвище / Surname". A state whose language is not here gets its labels in English.
The labels are data (wording.toml) so that a translator corrects them without touching code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

LANGUAGES = ("en", "pl", "uk", "ro", "de", "ru")

STATE_LANGUAGE: dict[str, str] = {
    "PL": "pl",
    "UA": "uk",
    "MD": "ro",
    "RO": "ro",
    "AT": "de",
    "DE": "de",
    "LI": "de",
    "BY": "ru",
    "RU": "ru",
}

_WORDS: dict[str, dict[str, str]] = tomllib.loads(
    (Path(__file__).parent / "wording.toml").read_text(encoding="utf-8")
)


def languages_of(requesting: str, requested: str) -> tuple[str, ...]:
    """The requesting state's language, the requested state's, then English: each once."""
    ordered = [STATE_LANGUAGE.get(requesting, "en"), STATE_LANGUAGE.get(requested, "en"), "en"]
    return tuple(dict.fromkeys(ordered))


def word(key: str, language: str) -> str:
    """One label in one language (English where the language is not in the catalogue)."""
    row = _WORDS[key]
    return row.get(language) or row["en"]


def words(key: str, languages: Sequence[str]) -> str:
    """A label in every language of the form, joined: "Nazwisko / Прізвище / Surname"."""
    return " / ".join(dict.fromkeys(word(key, language) for language in languages))


def keys() -> frozenset[str]:
    return frozenset(_WORDS)
