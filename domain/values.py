"""Value objects of a readmission case: the person, evidence, places, outcomes.

Numbers that are not integers are `Decimal`s: they are stored as strings, because the event
store's canonical JSON (what the hash chain covers) admits no floats.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from domain.agreements import Frozen

# No control characters but tab and newline: PostgreSQL's jsonb refuses U+0000, and such
# characters have no place in names, reasons or document numbers.
_PRINTABLE = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000, pattern=_PRINTABLE),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=_PRINTABLE),
]
Reasons = Annotated[tuple[Text, ...], Field(max_length=50)]


# The procedures a case runs under, recorded when it opens (`CaseOpened.ruleset`) so that a case
# keeps them for its whole life, replays included: 1 is v0.2's (the reply limit ran from an
# officer's confirmation of receipt); 2 (v0.3) starts it at delivery, on submission.
LEGACY_RULESET = 1
CURRENT_RULESET = 2


class Side(StrEnum):
    """Who issues a command (`domain.commands.CATALOGUE`): one party's officers, the case's own
    clock (`system`), or the officers of either party (`either`: the command names its side,
    `domain.commands.issued_by`). A case's parties are only ever `requesting` and `requested`."""

    REQUESTING = "requesting"
    REQUESTED = "requested"
    SYSTEM = "system"
    EITHER = "either"


# One of a case's two parties: the side a command of `Side.EITHER` names, an assignee's side.
PartySide = Literal[Side.REQUESTING, Side.REQUESTED]


class CaseKind(StrEnum):
    """What a case asks of the requested state: to take a person back (readmission), or to let
    a third-country national pass through its territory to another state (transit,
    docs/transit.md)."""

    READMISSION = "readmission"
    TRANSIT = "transit"


class Procedure(StrEnum):
    STANDARD = "standard"
    ACCELERATED = "accelerated"


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    DEEMED_ACCEPTED = "deemed_accepted"
    REFUSED = "refused"
    TRANSFER_SCHEDULED = "transfer_scheduled"
    TRANSFER_OBJECTED = "transfer_objected"
    TRANSFERRED = "transferred"
    # readmission in error (ruleset 2): claimed by the requested state, answered by the
    # requesting state, then the person is returned to it (docs/readmission-in-error.md)
    ERROR_CLAIMED = "error_claimed"
    ERROR_ACCEPTED = "error_accepted"
    ERROR_DISPUTED = "error_disputed"
    RETURN_SCHEDULED = "return_scheduled"
    RETURNED_IN_ERROR = "returned_in_error"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"
    CLOSED = "closed"
    # transit cases (domain.transit): the requested state consents to the transit (or its
    # silence does, where the terms say so), the transit is scheduled and done, or it fails
    # and the requesting state takes the person back
    CONSENTED = "consented"
    DEEMED_CONSENTED = "deemed_consented"
    TRANSIT_SCHEDULED = "transit_scheduled"
    TRANSITED = "transited"
    TRANSIT_FAILED = "transit_failed"
    TAKEN_BACK = "taken_back"


class Grade(StrEnum):
    PROOF = "proof"
    PRIMA_FACIE = "prima_facie"


class Sealed(Frozen):
    """Personal data sealed with its case's data key (AES-256-GCM): opaque to the domain.

    Only an adapter holding the case key opens it; once retention erases that key, nothing can,
    while the hash chain (which covers this ciphertext) still verifies.
    """

    sealed: Annotated[str, Field(pattern=r"^v1\.[A-Za-z0-9_-]{16,}$", max_length=400_000)]


class Person(Frozen):
    """The person to be readmitted: personal data, encrypted wherever it leaves the store."""

    surname: ShortText
    given_names: ShortText
    birth_date: date
    birth_place: ShortText | None = None
    sex: Literal["F", "M", "X"] | None = None
    nationality: Annotated[str, Field(pattern=r"^[A-Z]{2,3}$")] | None = None
    other_names: tuple[ShortText, ...] = ()
    personal_number: ShortText | None = Field(default=None, description="e.g. Ukraine's UNZR")
    address: Text | None = None


PersonRecord = Person | Sealed
"""The person as a case carries it: sealed by the system; in the clear only in old histories."""

ReasonsRecord = Reasons | Sealed
"""An officer's reasons as a case carries them: free text that may name the person, their
family or their health, so sealed by the system (a seal always holds at least one reason); in
the clear only in histories recorded before free text was sealed."""

NoteRecord = ShortText | Sealed
"""An officer's note, sealed like reasons (in the clear only in older histories)."""


class EvidenceItem(Frozen):
    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")]
    number: ShortText | None = None
    issued_by: ShortText | None = None
    issued_on: date | None = None
    valid_until: date | None = None
    mrz: tuple[ShortText, ...] = ()
    description: Text | None = None
    sealed: Sealed | None = Field(
        default=None, description="number, MRZ and description, sealed with the case key"
    )

    @model_validator(mode="after")
    def _nothing_beside_the_seal(self) -> EvidenceItem:
        if self.sealed is not None and (self.number or self.mrz or self.description):
            raise ValueError("a sealed evidence item keeps its number, MRZ and description sealed")
        return self

    @property
    def personal(self) -> bool:
        """Whether the item holds identifying data in the clear."""
        return bool(self.number or self.mrz or self.description)


class GradedEvidence(Frozen):
    item: EvidenceItem
    grade: Grade


class PlaceKind(StrEnum):
    LAND_BORDER = "land_border"
    SEA_PORT = "sea_port"
    AIRPORT = "international_airport"
    INLAND = "inland"


class ApprehensionPlace(Frozen):
    """Where the person was found: the kind and distance decide the accelerated procedure; the
    name (a street, a station, an address) is personal data, sealed like the person."""

    kind: PlaceKind
    name: ShortText | Sealed | None = None
    km_from_border: Decimal | None = Field(default=None, ge=0, max_digits=7, decimal_places=3)


class VerificationStatus(StrEnum):
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"
    INCONCLUSIVE = "inconclusive"


class VerificationOutcome(Frozen):
    status: VerificationStatus
    score: Decimal = Field(ge=0, le=1, max_digits=4, decimal_places=3)
    reasons: tuple[Text, ...] = ()
    interview_needed: bool = False
    registry: ShortText | None = None
    sealed_reasons: Sealed | None = Field(
        default=None, description="reasons naming documents or birth data, sealed with the case key"
    )


class TransferMode(StrEnum):
    AIR = "air"
    LAND = "land"
    SEA = "sea"


class TransferPlan(Frozen):
    on: AwareDatetime
    bcp: ShortText
    mode: TransferMode
    escorts: int = Field(default=0, ge=0, le=20)


class EscalationLevel(StrEnum):
    """Reminders go to the acting officer, escalations to the acting side's supervisor."""

    REMINDER_HALF = "reminder_half"
    REMINDER_LAST_DAY = "reminder_last_day"
    ESCALATION_NEAR = "escalation_near"
    ESCALATION_PASSED = "escalation_passed"

    @property
    def recipient_role(self) -> str:
        return "officer" if self.value.startswith("reminder") else "supervisor"
