"""Sealing a case's personal data with the case's own data key (AES-256-GCM).

What is sealed: the person (names, birth data, personal number, address; as opened and as
amended), each evidence item's number, MRZ and description, and the reasons of an identity
verification (they quote document numbers and birth dates). Each seal is bound to its case and
purpose by the associated data, so a seal copied into another case, or from a person into an
evidence item, does not open. The text of a seal is `v1.<base64url(nonce + ciphertext)>`: what
the event store hashes and Temporal keeps.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.commands import AddEvidence, AmendPerson, Command, OpenCase, RecordVerification
from domain.state import CaseState
from domain.values import (
    EvidenceItem,
    GradedEvidence,
    Person,
    PersonRecord,
    Sealed,
    VerificationOutcome,
)

NONCE_BYTES = 12
PREFIX = "v1."
EVIDENCE_FIELDS = ("number", "mrz", "description")


class SealError(ValueError):
    """A seal that does not open with this case's key (another case's, or altered)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CaseSealer:
    """Seals and opens one case's personal data with its data key."""

    def __init__(self, case_id: str, key: bytes) -> None:
        self.case_id = case_id
        self._cipher = AESGCM(key)

    def _aad(self, purpose: str) -> bytes:
        return f"readmit/{self.case_id}/{purpose}".encode()

    def seal(self, purpose: str, value: Any) -> Sealed:
        plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        nonce = os.urandom(NONCE_BYTES)
        blob = nonce + self._cipher.encrypt(nonce, plaintext, self._aad(purpose))
        return Sealed(sealed=PREFIX + _b64(blob))

    def open(self, purpose: str, sealed: Sealed) -> Any:
        blob = _unb64(sealed.sealed.removeprefix(PREFIX))
        try:
            plaintext = self._cipher.decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._aad(purpose)
            )
        except InvalidTag:
            raise SealError(
                f"a {purpose} seal does not open with case {self.case_id}'s key"
            ) from None
        return json.loads(plaintext)

    # --- the case's personal fields -----------------------------------------------------------

    def seal_person(self, person: PersonRecord) -> Sealed:
        if isinstance(person, Sealed):
            return person
        return self.seal("person", person.model_dump(mode="json"))

    def open_person(self, person: PersonRecord) -> Person:
        if isinstance(person, Person):
            return person
        return Person.model_validate(self.open("person", person))

    def seal_item(self, item: EvidenceItem) -> EvidenceItem:
        if not item.personal:
            return item
        hidden = item.model_dump(mode="json", include=set(EVIDENCE_FIELDS))
        cleared = {"number": None, "mrz": (), "description": None}
        return item.model_copy(update={**cleared, "sealed": self.seal("evidence", hidden)})

    def open_item(self, item: EvidenceItem) -> EvidenceItem:
        if item.sealed is None:
            return item
        fields = self.open("evidence", item.sealed)
        return EvidenceItem.model_validate(
            {**item.model_dump(mode="json", exclude={"sealed"}), **fields}
        )

    def seal_outcome(self, outcome: VerificationOutcome) -> VerificationOutcome:
        if not outcome.reasons:
            return outcome
        sealed = self.seal("verification", list(outcome.reasons))
        return outcome.model_copy(update={"reasons": (), "sealed_reasons": sealed})

    def open_outcome(self, outcome: VerificationOutcome) -> VerificationOutcome:
        if outcome.sealed_reasons is None:
            return outcome
        reasons = tuple(self.open("verification", outcome.sealed_reasons))
        return outcome.model_copy(update={"reasons": reasons, "sealed_reasons": None})

    # --- whole commands and states ------------------------------------------------------------

    def seal_command(self, command: Command) -> Command:
        """The command with its personal data sealed (others are returned as they are)."""
        match command:
            case OpenCase():
                return command.model_copy(
                    update={
                        "person": self.seal_person(command.person),
                        "evidence": tuple(self.seal_item(e) for e in command.evidence),
                    }
                )
            case AddEvidence():
                return command.model_copy(
                    update={"items": tuple(self.seal_item(e) for e in command.items)}
                )
            case RecordVerification():
                return command.model_copy(update={"outcome": self.seal_outcome(command.outcome)})
            case AmendPerson():
                return command.model_copy(update={"person": self.seal_person(command.person)})
            case _:
                return command

    def reveal(self, state: CaseState) -> CaseState:
        """The state with its personal data opened, for those allowed to see it."""
        return state.model_copy(
            update={
                "person": self.open_person(state.person) if state.person else None,
                "evidence": self.open_evidence(state.evidence),
                "verification": (
                    self.open_outcome(state.verification) if state.verification else None
                ),
            }
        )

    def open_evidence(self, graded: tuple[GradedEvidence, ...]) -> tuple[GradedEvidence, ...]:
        return tuple(GradedEvidence(item=self.open_item(g.item), grade=g.grade) for g in graded)
