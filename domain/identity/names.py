"""Does one name, written in Cyrillic or Latin under any transliteration, denote the same person?

Ukrainian, Russian and Belarusian passports have romanised names under several official systems,
and holders may keep an old spelling, so one man is Oleksandr, Aleksandr, Aliaksandr or Alexander.
Each Cyrillic word is romanised under every system; every Latin spelling is reduced to a key that
merges the usual alternatives (kh/h/g, y/i/j, ts/tc, ie/e, doubled letters); words are paired
regardless of order and scored with rapidfuzz. The score comes with reasons, never a bare yes/no.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import permutations, product
from math import fsum
from typing import Any

import iuliia  # type: ignore[import-untyped, unused-ignore]  # no stubs
import translitua
from pydantic import BaseModel, ConfigDict
from rapidfuzz.fuzz import ratio

MATCH_THRESHOLD = 0.85
"""Scores at or above this mean "same name". In the table of tests/unit/test_names.py every pair
of spellings of one person scores at least 0.9 and every pair of different people at most 0.82
(same given name, similar surname); a name alone is weak evidence, so weigh birth date and
document numbers more."""

_EQUIVALENT = 0.95  # spellings that differ only by interchangeable letter groups
_SKELETON_WEIGHT = 0.9  # same consonants in the same order (a/o, ia/e…): Aliaksandr, Oleksandr
_SKELETON_MIN = 4  # shorter consonant skeletons say too little (Olena, Alina)
_GENDER_PAIR = 0.3  # Ivan / Ivanna, Petrov / Petrova: forms of one name for two genders
_GENDER_CAP = 0.5  # a whole name with a gender mismatch never matches
_UNPAIRED_WEIGHT = 0.35  # a word with no counterpart (middle name, second surname)
_PATRONYMIC_WEIGHT = 0.1  # patronymics are routinely left out of Latin spellings
_WEAKEST_SHARE = 0.5  # the worst pair weighs half: a name matches only if every word does
_EXHAUSTIVE_UP_TO = 5  # words per name up to which every pairing is tried

_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_PATRONYMIC = re.compile(r"(вич|віч|вна|ўна|ична|ічна|vych|vich|vna|ichna)$")
_SPECIAL = str.maketrans(
    {"č": "ch", "š": "sh", "ž": "zh", "ł": "l", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe"}
)
_BY = dict(zip("абвгґдезійклмнопрстуўфыэ", "abvhgdeziiklmnoprstuufye", strict=True)) | {
    "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "ё": "io", "ю": "iu", "я": "ia",
    "ь": "", "'": "", "’": "", "ʼ": "",
}  # fmt: skip
_RO_AS_READ = str.maketrans({"ș": "sh", "ş": "sh", "ț": "ts", "ţ": "ts"})
_ANY = _BY | {"и": "y", "щ": "shch", "ъ": "", "є": "ie", "ї": "i"}  # last resort for mixed words
_BY_IOTATED = {"е": "ye", "ё": "yo", "ю": "yu", "я": "ya"}
_PRE = [(re.compile(p), r) for p, r in [
    ("x", "ks"), ("w", "v"), ("q", "k"), ("ph", "f"),
    ("shtsch|schtsch|shch|shtch|szcz|chtch|shh", "Q"), ("tsch|tch|cz", "C"),
]]  # fmt: skip
_MAIN = [(re.compile(p), r) for p, r in [
    ("zh|zs", "Z"), ("sh|sz", "S"), ("kh|gh|h|g", "H"),
    ("ts|tc|tz", "T"), ("c(?=[eiyv])", "T"), ("c", "k"), ("y", "i"), ("ie", "e"),
    ("(?<=[^aeiou])io", "e"), (r"(.)\1+", r"\1"),
]]  # fmt: skip


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WordMatch(_Frozen):
    """Two words paired across the names, with the spellings that came closest."""

    a: str
    b: str
    score: float
    variant_a: str
    variant_b: str
    gender_mismatch: bool = False


class NameMatch(_Frozen):
    """How alike two names are (0–1), why, and the Latin spellings that matched best."""

    score: float
    is_match: bool
    reasons: tuple[str, ...]
    best_variant_a: str
    best_variant_b: str
    pairs: tuple[WordMatch, ...]


@dataclass(frozen=True)
class _Word:
    text: str
    spellings: dict[str, str]  # Latin (or Cyrillic as written) spelling -> how it was obtained
    keys: dict[str, str]  # normalised key -> the spelling it came from


def match_names(a: str, b: str) -> NameMatch:
    """Score two full names written in any order, script and transliteration system."""
    words_a, words_b = [_variants(w) for w in _words(a)], [_variants(w) for w in _words(b)]
    if not words_a or not words_b:
        return NameMatch(score=0.0, is_match=False, reasons=("a name has no letters",),
                         best_variant_a="", best_variant_b="", pairs=())  # fmt: skip
    grid = {(i, j): _pair(x, y) for i, x in enumerate(words_a) for j, y in enumerate(words_b)}

    def unpaired(chosen: list[tuple[int, int]]) -> list[str]:
        left_a = [w.text for i, w in enumerate(words_a) if i not in {i for i, _ in chosen}]
        return left_a + [w.text for j, w in enumerate(words_b) if j not in {j for _, j in chosen}]

    def score(chosen: list[tuple[int, int]]) -> float:
        scores = [grid[ij][0].score for ij in chosen]
        weight = fsum(_PATRONYMIC_WEIGHT if _PATRONYMIC.search(w) else _UNPAIRED_WEIGHT
                      for w in unpaired(chosen))  # fmt: skip
        mean = fsum(scores) / (len(scores) + weight)  # fsum: the same either way round
        total = (1 - _WEAKEST_SHARE) * mean + _WEAKEST_SHARE * min(scores)
        gender = any(grid[ij][0].gender_mismatch for ij in chosen)
        return round(min(total, _GENDER_CAP) if gender else total, 3)

    best: list[tuple[int, int]] = max(_pairings(grid, len(words_a), len(words_b)), key=score)
    chosen = sorted(best)
    pairs, total = [grid[ij][0] for ij in chosen], score(chosen)
    reasons = [grid[ij][1] for ij in chosen]
    for word in unpaired(chosen):
        patronymic = " (a patronymic)" if _PATRONYMIC.search(word) else ""
        reasons.append(f"'{word}' has no counterpart{patronymic}")
    verdict = "at or above" if total >= MATCH_THRESHOLD else "below"
    reasons.append(f"score {total} is {verdict} the match threshold {MATCH_THRESHOLD}")
    return NameMatch(
        score=total,
        is_match=total >= MATCH_THRESHOLD,
        reasons=tuple(reasons),
        best_variant_a=" ".join(p.variant_a for p in pairs),
        best_variant_b=" ".join(p.variant_b for p in pairs),
        pairs=tuple(pairs),
    )


def _pairings(
    grid: dict[tuple[int, int], tuple[WordMatch, str]], n: int, m: int
) -> list[list[tuple[int, int]]]:
    """Every one-to-one pairing of the words when names are short, else one greedy pairing."""
    if max(n, m) <= _EXHAUSTIVE_UP_TO:
        if n <= m:
            return [list(enumerate(p)) for p in permutations(range(m), n)]
        return [[(i, j) for j, i in enumerate(p)] for p in permutations(range(n), m)]
    chosen: list[tuple[int, int]] = []
    for i, j in sorted(grid, key=lambda ij: -grid[ij][0].score):
        if all(i != x and j != y for x, y in chosen):
            chosen.append((i, j))
    return [chosen]


def latin_key(spelling: str) -> str:
    """The main normalised key of a Latin spelling (for display and for tests)."""
    return _keys(_fold(spelling))[0]


def _words(name: str) -> list[str]:
    return _WORD.findall(name.replace("<", " "))


def _fold(text: str) -> str:
    """Lower case without diacritics: Ș→s, ă→a, but č→ch, š→sh, ž→zh as they are read."""
    text = text.casefold().translate(_SPECIAL)
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if c.isascii() and c.isalpha())


@lru_cache(maxsize=4096)
def _variants(word: str) -> _Word:
    """Every Latin spelling of a word (how it was obtained) and the keys of those spellings."""
    spellings: dict[str, str] = {}
    if _CYRILLIC.search(word):
        cyrillic = word.casefold()
        spellings[cyrillic.replace("ё", "е")] = "as written"
        for system, romanise in _systems(cyrillic):
            latin = romanise(cyrillic)
            if not _CYRILLIC.search(latin) and (folded := _fold(latin)):
                spellings.setdefault(folded, system)
        if len(spellings) == 1 and (folded := _fold(_romanise(cyrillic, _ANY))):
            spellings[folded] = "letter-by-letter romanisation"  # mixed or unusual letters
    elif not _fold(word):  # Greek, Georgian, Arabic…: only identical words can be compared
        spellings[word.casefold()] = "as written"
    else:
        spellings[_fold(word)] = ""
        if set(word.casefold()) & set("șşțţ"):  # Moldovan names also appear romanised from Russian
            spellings.setdefault(_fold(word.casefold().translate(_RO_AS_READ)), "ș/ț read as sh/ts")
    keys: dict[str, str] = {}
    for spelling, how in spellings.items():
        if how != "as written":
            for key in _keys(spelling):
                keys.setdefault(key, spelling)
    return _Word(word, spellings, keys)


@lru_cache(maxsize=4096)
def _keys(spelling: str) -> tuple[str, ...]:
    """Keys for every reading of the ambiguous groups ch (ч/х), sch (щ/ш) and j (й/ж)."""
    text = spelling
    for pattern, replacement in _PRE:
        text = pattern.sub(replacement, text)
    choices = [c if g in text else c[:1] for g, c in [("sch", "QS"), ("ch", "CH"), ("j", "iZ")]]
    keys: dict[str, None] = {}
    for sch, ch, j in product(*choices):
        key = text.replace("sch", sch).replace("ch", ch).replace("j", j)
        for pattern, replacement in _MAIN:
            key = pattern.sub(replacement, key)
        keys[key] = None
    return tuple(keys)


def _pair(a: _Word, b: _Word) -> tuple[WordMatch, str]:
    """The best score over all spellings of two words, with a one-line reason."""
    if common := [s for s in a.spellings if s in b.spellings]:
        s = common[0]
        hows = [h for h in (a.spellings[s], b.spellings[s]) if h and h != "as written"]
        via = f" via {' and '.join(hows)}" if hows else ""
        if not via and a.text.casefold() != b.text.casefold():
            via = " after removing diacritics"
        return _word(a, b, 1.0, s, s), f"'{a.text}' = '{b.text}'{via}"
    if not a.keys or not b.keys:
        return _word(a, b, 0.0, a.text, b.text), f"'{a.text}' and '{b.text}' cannot be compared"
    best, ka, kb = max((_similarity(x, y), x, y) for x in a.keys for y in b.keys)
    va, vb = a.keys[ka], b.keys[kb]
    systems = [s for s in (a.spellings[va], b.spellings[vb]) if s]
    via = f" ({', '.join(systems)})" if systems else ""
    if ka == kb:
        return _word(a, b, _EQUIVALENT, va, vb), (
            f"'{a.text}' ~ '{b.text}': '{va}' and '{vb}' are equivalent spellings{via}"
        )
    if any(_gendered(x, y) or _gendered(y, x) for x in a.keys for y in b.keys):
        match = _word(a, b, min(best, _GENDER_PAIR), va, vb, gender_mismatch=True)
        return match, f"'{a.text}' and '{b.text}' are forms of one name for different genders"
    return _word(a, b, best, va, vb), (
        f"'{a.text}' ~ '{b.text}' ({best:.2f}): closest spellings '{va}' and '{vb}'{via}"
    )


def _word(a: _Word, b: _Word, score: float, va: str, vb: str, **extra: bool) -> WordMatch:
    return WordMatch(a=a.text, b=b.text, score=round(score, 3), variant_a=va, variant_b=vb, **extra)


def _similarity(x: str, y: str) -> float:
    direct = ratio(x, y) / 100
    sx, sy = _skeleton(x), _skeleton(y)
    if min(len(sx), len(sy)) < _SKELETON_MIN:
        return direct
    return max(direct, _SKELETON_WEIGHT * ratio(sx, sy) / 100)


def _skeleton(key: str) -> str:
    return "".join(c for c in key if c not in "aeiou")


def _gendered(masculine: str, feminine: str) -> bool:
    """Masculine and feminine forms, compared as keys: Ivan/Ivanna, Petrov/Petrova,
    Yevhen/Yevheniia, Kovalskyi/Kovalska, Tolstoi/Tolstaia."""
    if len(masculine) < 3 or masculine[-1] in "aeou" or not feminine.endswith("a"):
        return False
    stem = feminine[:-1]
    if stem in (masculine, masculine + "i"):
        return True
    adjectival = feminine.endswith("aia") and feminine[:-3] in (masculine[:-1], masculine[:-2])
    return masculine[-1] == "i" and (stem == masculine[:-1] or adjectival)


def _is_belarusian(word: str) -> bool:
    return "ў" in word or ("і" in word and bool(set(word) & set("ыэё")))


def _belarusian(word: str) -> str:
    """Belarusian passport romanisation: е/ё/ю/я are ye/yo/yu/ya at the start and after vowels."""
    return _romanise(word, _BY)


def _romanise(word: str, table: dict[str, str]) -> str:
    out, previous = [], ""
    for char in word:
        iotated = char in _BY_IOTATED and (not previous or previous in "аеёіоуыэюяўь'’ʼ")
        out.append(_BY_IOTATED[char] if iotated else table.get(char, char))
        previous = char
    return "".join(out)


def _table(table: type[translitua.TransliterationTable]) -> Callable[[str], str]:
    return lambda word: translitua.translit(word, table)


_UKRAINIAN = [
    ("Ukrainian 2010 (Cabinet Resolution No. 55)", _table(translitua.UkrainianKMU)),
    ("Ukrainian passport 2007", _table(translitua.UkrainianPassport2007)),
    ("Ukrainian passport 2004", _table(translitua.UkrainianPassport2004Alt)),
    ("Ukrainian national 1996", _table(translitua.UkrainianNational1996)),
]
_RUSSIAN: list[tuple[str, Callable[[str], str]]] = [
    ("Russian passport 2014 (ICAO Doc 9303)", iuliia.ICAO_DOC_9303.translate),
    ("Russian passport 2010 (GOST R 52535.1-2006)", iuliia.GOST_52535.translate),
    ("Russian passport 2000 (MVD order 782)", iuliia.MVD_782.translate),
    ("Russian passport 1997 (MVD order 310)", iuliia.MVD_310.translate),
    ("BGN/PCGN Russian", iuliia.BGN_PCGN.translate),
    ("Wikipedia Russian", iuliia.WIKIPEDIA.translate),
]
_BELARUSIAN = [("Belarusian passport", _belarusian)]


def _systems(word: str) -> list[tuple[str, Callable[[str], str]]]:
    """All systems, those of the language the letters point to first (the reason names it)."""
    if _is_belarusian(word):
        return _BELARUSIAN + _RUSSIAN + _UKRAINIAN
    if set(word) & set("ыэъё"):
        return _RUSSIAN + _BELARUSIAN + _UKRAINIAN
    return _UKRAINIAN + _RUSSIAN + _BELARUSIAN


def name_match(name_a: str, name_b: str) -> dict[str, Any]:
    """The score of two names with its reasons and the threshold, as the CLI's `readmit identity
    match` and the API's `POST /identity/match` both answer."""
    return {**match_names(name_a, name_b).model_dump(mode="json"), "threshold": MATCH_THRESHOLD}


def spelling_keys(word: str) -> tuple[str, ...]:
    """The normalised keys of one word under every transliteration system the matcher knows
    (the person search's blind index hashes these, so that any spelling finds any other)."""
    return tuple(_variants(word).keys)


def name_words(name: str) -> list[str]:
    """The words of a name as the matcher splits it (MRZ fillers `<` count as spaces)."""
    return _words(name)
