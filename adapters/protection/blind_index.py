"""The person search's blind index: keyed hashes of a person's tokens, never the tokens.

HMAC-SHA256 under the installation's search key (`adapters.keys.search_key`) of a token and its
kind (domain/identity/search_tokens.py). Without the key a hash cannot be tested against a
guessed name or birth date, so the index reveals nothing a stolen table could be searched for;
with it, the API hashes what an officer searches for and looks the hashes up. A case's entries
go when its data key is erased (`adapters.db.person_index.erase_entries`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from adapters.protection.sealing import CaseSealer
from domain.identity import search_tokens as tokens
from domain.identity.search_tokens import Token
from domain.state import CaseState
from domain.values import EvidenceItem, Person, Sealed

INDEXED_EVENTS = frozenset(("CaseOpened", "PersonAmended", "EvidenceAdded"))
"""The events after which a case's entries are made again: those recording its person or the
numbers of its documents."""


@dataclass(frozen=True)
class Entry:
    kind: str
    hash: bytes


class BlindIndex:
    """Hashes tokens under one search key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("a search key has at least 32 bytes")
        self._key = key

    def hash(self, token: Token) -> bytes:
        kind, text = token
        message = f"{kind.value}\x1f{text}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def entries(self, found: Iterable[Token]) -> list[Entry]:
        return sorted(
            {Entry(kind.value, self.hash((kind, text))) for kind, text in found},
            key=lambda e: (e.kind, e.hash),
        )

    def person_entries(self, person: Person, evidence: Iterable[EvidenceItem] = ()) -> list[Entry]:
        """The entries of a person (opened) and the numbers of its evidence (opened)."""
        numbers = [item.number for item in evidence if item.number]
        return self.entries(
            tokens.person_tokens(
                person.surname,
                person.given_names,
                person.birth_date,
                [*numbers, *([person.personal_number] if person.personal_number else [])],
                person.other_names,
            )
        )

    def case_entries(self, state: CaseState, sealer: CaseSealer | None) -> list[Entry]:
        """The entries of a case's person and evidence, opened with the case's `sealer`; none
        when its person is sealed and there is no sealer (its key erased). Evidence sealed
        without a sealer to open it adds no number."""
        person = state.person
        if person is None or (isinstance(person, Sealed) and sealer is None):
            return []
        opened = sealer.open_person(person) if sealer else person
        assert isinstance(opened, Person)
        items = [g.item for g in state.evidence]
        if sealer is not None:
            items = [sealer.open_item(item) for item in items]
        return self.person_entries(opened, [i for i in items if i.sealed is None])


@dataclass(frozen=True)
class PersonQuery:
    """What an officer searches for: any of the four criteria."""

    surname: str | None = None
    given_names: str | None = None
    birth_date: date | None = None
    document_number: str | None = None

    def asked(self) -> dict[str, list[set[Token]] | set[Token]]:
        """Each criterion given, as the tokens of its words (names) or its one token; a name
        without letters or a number without digits or letters asks nothing."""
        asked: dict[str, list[set[Token]] | set[Token]] = {}
        if self.surname and (words := tokens.surname_words(self.surname)):
            asked["surname"] = words
        if self.given_names and (words := tokens.given_name_words(self.given_names)):
            asked["given_names"] = words
        if self.birth_date is not None:
            asked["birth_date"] = {(tokens.Kind.BIRTH_DATE, self.birth_date.isoformat())}
        if self.document_number and (number := tokens.document_token(self.document_number)):
            asked["document_number"] = {(tokens.Kind.DOCUMENT, number)}
        return asked


def all_tokens(asked: dict[str, list[set[Token]] | set[Token]]) -> set[Token]:
    found: set[Token] = set()
    for value in asked.values():
        if isinstance(value, list):
            found.update(*value)
        else:
            found.update(value)
    return found
