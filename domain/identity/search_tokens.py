"""What the person search compares: normalised tokens of a person, and how a match scores.

Names, birth dates and document numbers are sealed, so the search cannot read them; it compares
keyed hashes of tokens instead (adapters/protection/blind_index.py). A name word gives one token
per normalised key under every transliteration system the name matcher knows
(`names.spelling_keys`), plus its consonant skeleton (Oleksandr and Aleksandr share `lksndr`) as a
weaker token of its own kind; a birth date its ISO form; a document number its letters and digits
in capitals. Pure: the same tokens in the projector that indexes and in the API that searches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum

from domain.identity.names import name_words, spelling_keys

SKELETON_MIN = 4  # shorter consonant skeletons say too little (Olena, Alina)
SIMILAR_SHARE = 0.7  # a name matched only by its skeleton counts for this share of its weight


class Kind(StrEnum):
    """What a token stands for; hashed with the token, so kinds never match each other."""

    SURNAME = "surname"
    SURNAME_SKELETON = "surname_skeleton"
    GIVEN_NAME = "given_name"
    GIVEN_NAME_SKELETON = "given_name_skeleton"
    BIRTH_DATE = "birth_date"
    DOCUMENT = "document"


Token = tuple[Kind, str]

WEIGHTS: Mapping[str, float] = {
    "surname": 3.0,
    "given_names": 2.0,
    "birth_date": 3.0,
    "document_number": 4.0,
}
"""Each criterion's weight: a document number says most, a given name least. A score is the
weight matched over the weight of the criteria asked, so 1.0 means everything asked matched."""

KIND_WEIGHTS: Mapping[Kind, float] = {
    Kind.DOCUMENT: WEIGHTS["document_number"],
    Kind.BIRTH_DATE: WEIGHTS["birth_date"],
    Kind.SURNAME: WEIGHTS["surname"],
    Kind.SURNAME_SKELETON: WEIGHTS["surname"] * SIMILAR_SHARE,
    Kind.GIVEN_NAME: WEIGHTS["given_names"],
    Kind.GIVEN_NAME_SKELETON: WEIGHTS["given_names"] * SIMILAR_SHARE,
}
"""What a kind of token found weighs at most, for choosing which cases to score: the index
orders its candidates by these, so the best-scored are among them however common a name is."""


def document_token(number: str) -> str:
    """A document number as the index keeps it: letters and digits only, in capitals."""
    return re.sub(r"[^0-9A-Z]", "", number.upper())


def skeleton(key: str) -> str:
    return "".join(c for c in key if c not in "aeiou")


def word_tokens(word: str, kind: Kind, similar: Kind) -> set[Token]:
    """The tokens of one name word: its keys, and the skeletons of those long enough."""
    keys = spelling_keys(word)
    tokens: set[Token] = {(kind, k) for k in keys}
    tokens |= {(similar, s) for k in keys if len(s := skeleton(k)) >= SKELETON_MIN}
    return tokens


def surname_words(surname: str) -> list[set[Token]]:
    return [word_tokens(w, Kind.SURNAME, Kind.SURNAME_SKELETON) for w in name_words(surname)]


def given_name_words(given: str) -> list[set[Token]]:
    return [word_tokens(w, Kind.GIVEN_NAME, Kind.GIVEN_NAME_SKELETON) for w in name_words(given)]


def person_tokens(
    surname: str,
    given_names: str,
    birth_date: date,
    documents: Iterable[str] = (),
    other_names: Iterable[str] = (),
) -> set[Token]:
    """Every token the index keeps for one person (other names, e.g. a maiden name, count as
    surnames: the person may be searched under any of them)."""
    tokens: set[Token] = {(Kind.BIRTH_DATE, birth_date.isoformat())}
    for words in (surname_words(surname), *(surname_words(n) for n in other_names)):
        tokens.update(*words)
    tokens.update(*given_name_words(given_names))
    tokens |= {(Kind.DOCUMENT, t) for d in documents if (t := document_token(d))}
    return tokens


def name_share(words: list[set[Token]], found: set[Token], exact: Kind) -> tuple[float, bool]:
    """How much of a searched name was found (each word counts equally; a word found only by
    its skeleton counts `SIMILAR_SHARE`), and whether any word needed its skeleton."""
    if not words:
        return 0.0, False
    total, similar = 0.0, False
    for tokens in words:
        if any(kind is exact for kind, _ in tokens & found):
            total += 1.0
        elif tokens & found:
            total += SIMILAR_SHARE
            similar = True
    return total / len(words), similar


def score(
    asked: Mapping[str, list[set[Token]] | set[Token]], found: set[Token]
) -> tuple[float, tuple[str, ...]]:
    """The score (0–1) of one indexed person against the criteria `asked` (criterion → the
    tokens of each of its words, or its one token set) given the tokens `found` for them, with
    the criteria that matched as reasons (`surname~`: a similar spelling)."""
    weight = sum(WEIGHTS[c] for c in asked)
    matched, reasons = 0.0, []
    for criterion, tokens in asked.items():
        if isinstance(tokens, list):
            exact = Kind.SURNAME if criterion == "surname" else Kind.GIVEN_NAME
            share, similar = name_share(tokens, found, exact)
        else:
            share, similar = (1.0 if tokens & found else 0.0), False
        if share > 0:
            matched += WEIGHTS[criterion] * share
            reasons.append(f"{criterion}~" if similar else criterion)
    return (round(matched / weight, 3) if weight else 0.0), tuple(reasons)
