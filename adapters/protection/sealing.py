"""Sealing a case's personal data with the case's own data key (AES-256-GCM).

What is sealed: the person (names, birth data, personal number, address; as opened and as
amended), each evidence item's number, MRZ and description, the reasons of an identity
verification (they quote document numbers and birth dates), and every free text an officer
writes: the reasons of a refusal, withdrawal, extension, objection, claim or dispute, notes, the
text of a message between the two states, and the name of the place where the person was
apprehended. Each seal is bound to its case and
purpose by the associated data, so a seal copied into another case, or from a person into an
evidence item, does not open. The text of a seal is `v1.<base64url(nonce + ciphertext)>`: what
the event store hashes and Temporal keeps.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from domain.commands import (
    AddEvidence,
    AmendPerson,
    Command,
    OpenCase,
    RecordVerification,
)
from domain.events import Event
from domain.message_values import MessageTextRecord
from domain.state import REASONS_FIELDS, CaseState
from domain.values import (
    ApprehensionPlace,
    EvidenceItem,
    GradedEvidence,
    NoteRecord,
    Person,
    PersonRecord,
    ReasonsRecord,
    Sealed,
    VerificationOutcome,
)

NONCE_BYTES = 12
PREFIX = "v1."
EVIDENCE_FIELDS = ("number", "mrz", "description")
# A command or an event: what carries free text (`FREE_TEXT_FIELDS`, an apprehension place).
Carrier = TypeVar("Carrier", bound=BaseModel)


# What a seal that no longer opens (its case key erased) shows where the data was.
ERASED: dict[str, Any] = {"erased": True}


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

    # --- files: an attachment's bytes ---------------------------------------------------------

    def seal_bytes(self, purpose: str, data: bytes) -> bytes:
        """`data` sealed as raw bytes (nonce + ciphertext), bound to this case and `purpose`
        (an attachment's `attachment/<sha256>`), for a store outside the history."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._cipher.encrypt(nonce, data, self._aad(purpose))

    def open_bytes(self, purpose: str, blob: bytes) -> bytes:
        """The bytes `seal_bytes` sealed; `SealError` for another case's, purpose's or altered."""
        try:
            return self._cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._aad(purpose))
        except InvalidTag:
            raise SealError(
                f"a {purpose.split('/')[0]} seal does not open with case {self.case_id}'s key"
            ) from None

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

    # --- free text: reasons, notes, place names ------------------------------------------------

    def seal_reasons(self, reasons: ReasonsRecord) -> ReasonsRecord:
        """Given reasons sealed; none stay `()`, so a seal always holds at least one reason."""
        if isinstance(reasons, Sealed) or not reasons:
            return reasons
        return self.seal("reasons", list(reasons))

    def open_reasons(self, reasons: ReasonsRecord) -> tuple[str, ...]:
        if not isinstance(reasons, Sealed):
            return reasons
        return tuple(self.open("reasons", reasons))

    def seal_note(self, note: NoteRecord | None) -> NoteRecord | None:
        return self.seal("note", note) if isinstance(note, str) else note

    def open_note(self, note: NoteRecord | None) -> str | None:
        return str(self.open("note", note)) if isinstance(note, Sealed) else note

    def seal_place(self, place: ApprehensionPlace | None) -> ApprehensionPlace | None:
        if place is None or not isinstance(place.name, str):
            return place
        return place.model_copy(update={"name": self.seal("place", place.name)})

    def open_place(self, place: ApprehensionPlace | None) -> ApprehensionPlace | None:
        if place is None or not isinstance(place.name, Sealed):
            return place
        return place.model_copy(update={"name": str(self.open("place", place.name))})

    def seal_text(self, text: MessageTextRecord) -> MessageTextRecord:
        """A message's text (`domain.messages`) sealed, like a note."""
        return self.seal("message", text) if isinstance(text, str) else text

    def open_text(self, text: MessageTextRecord) -> MessageTextRecord:
        return str(self.open("message", text)) if isinstance(text, Sealed) else text

    def seal_free_text(self, carrier: Carrier) -> Carrier:
        """A command or event with its reasons, note and apprehension place's name sealed."""
        return carrier.model_copy(update=self._free_text(carrier, sealing=True))

    def open_free_text(self, carrier: Carrier) -> Carrier:
        """A command or event with its reasons, note and apprehension place's name opened."""
        return carrier.model_copy(update=self._free_text(carrier, sealing=False))

    def _free_text(self, carrier: BaseModel, *, sealing: bool) -> dict[str, Any]:
        ways: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
            "reasons": (self.seal_reasons, self.open_reasons),
            "note": (self.seal_note, self.open_note),
            "apprehension_place": (self.seal_place, self.open_place),
            "text": (self.seal_text, self.open_text),
        }
        fields = type(carrier).model_fields
        return {
            name: (seal if sealing else open_)(getattr(carrier, name))
            for name, (seal, open_) in ways.items()
            if name in fields
        }

    # --- whole commands and states ------------------------------------------------------------

    def seal_command(self, command: Command) -> Command:
        """The command with its personal data and free text sealed."""
        match command:
            case OpenCase():
                sealed: Command = command.model_copy(
                    update={
                        "person": self.seal_person(command.person),
                        "evidence": tuple(self.seal_item(e) for e in command.evidence),
                    }
                )
            case AddEvidence():
                sealed = command.model_copy(
                    update={"items": tuple(self.seal_item(e) for e in command.items)}
                )
            case RecordVerification():
                sealed = command.model_copy(update={"outcome": self.seal_outcome(command.outcome)})
            case AmendPerson():
                sealed = command.model_copy(update={"person": self.seal_person(command.person)})
            case _:
                sealed = command
        return self.seal_free_text(sealed)

    def open_command(self, command: Command) -> Command:
        """The command with its personal data and free text opened: the inverse of
        `seal_command`, for a federated node that re-encrypts a command it sealed with its own
        case key to the peer node's key. What was recorded in the clear stays as it is; a seal
        that does not open with this case's key raises `SealError`."""
        match command:
            case OpenCase():
                opened: Command = command.model_copy(
                    update={
                        "person": self.open_person(command.person),
                        "evidence": tuple(self.open_item(e) for e in command.evidence),
                    }
                )
            case AddEvidence():
                opened = command.model_copy(
                    update={"items": tuple(self.open_item(e) for e in command.items)}
                )
            case RecordVerification():
                opened = command.model_copy(update={"outcome": self.open_outcome(command.outcome)})
            case AmendPerson():
                opened = command.model_copy(update={"person": self.open_person(command.person)})
            case _:
                opened = command
        return self.open_free_text(opened)

    def reveal(self, state: CaseState) -> CaseState:
        """The state with its personal data opened, for those allowed to see it."""
        return state.model_copy(
            update={
                "person": self.open_person(state.person) if state.person else None,
                "evidence": self.open_evidence(state.evidence),
                "verification": (
                    self.open_outcome(state.verification) if state.verification else None
                ),
                "apprehension_place": self.open_place(state.apprehension_place),
                **{name: self.open_reasons(getattr(state, name)) for name in REASONS_FIELDS},
                # a reply awaiting approval, and the last one returned (domain.reply_approval)
                "reply_draft": self._opened_or_none(state.reply_draft),
                "reply_returned": self._opened_or_none(state.reply_returned),
            }
        )

    def _opened_or_none(self, carrier: Carrier | None) -> Carrier | None:
        return None if carrier is None else self.open_free_text(carrier)

    def open_evidence(self, graded: tuple[GradedEvidence, ...]) -> tuple[GradedEvidence, ...]:
        return tuple(GradedEvidence(item=self.open_item(g.item), grade=g.grade) for g in graded)


def free_texts(event: Event, sealer: CaseSealer | None) -> dict[str, Any]:
    """An event's reasons, note and apprehension place's name, opened with the case's `sealer`:
    as recorded where recorded in the clear (older histories), `ERASED` where sealed and the
    case has no key any more. Empty for an event without free text."""
    opened: Any = sealer.open_free_text(event) if sealer is not None else event
    texts: dict[str, Any] = {}
    if reasons := getattr(opened, "reasons", None):
        texts["reasons"] = dict(ERASED) if isinstance(reasons, Sealed) else list(reasons)
    if (note := getattr(opened, "note", None)) is not None:
        texts["note"] = dict(ERASED) if isinstance(note, Sealed) else note
    if (text := getattr(opened, "text", None)) is not None:
        texts["text"] = dict(ERASED) if isinstance(text, Sealed) else text
    place = getattr(opened, "apprehension_place", None)
    if place is not None and place.name is not None:
        texts["apprehension_place"] = dict(ERASED) if isinstance(place.name, Sealed) else place.name
    return texts
