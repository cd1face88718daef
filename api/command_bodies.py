"""The request bodies of the case commands: what the API accepts, field by field.

Stricter than the commands they become (at least one reason; evidence, reasons, notes and the
apprehension place's name in the clear, since the server seals them with the case's key), and
flat where a command nests (a verification's outcome): `api.commands` pairs each body with its
command, which is built by `CommandKind.build`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from domain.agreements import Category
from domain.transit_request import FlightDetails, TransitRequest
from domain.values import (
    ApprehensionPlace,
    CaseKind,
    EvidenceItem,
    Person,
    Procedure,
    ShortText,
    Text,
    TransferMode,
    VerificationStatus,
)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _unsealed(items: list[EvidenceItem]) -> list[EvidenceItem]:
    """Evidence as officers give it: seals are made by the server, with the case's key."""
    if any(item.sealed is not None for item in items):
        raise ValueError("evidence is sent in the clear; the server seals it with the case key")
    return items


ClearEvidence = Annotated[list[EvidenceItem], AfterValidator(_unsealed)]


def _clear_place(place: ApprehensionPlace | None) -> ApprehensionPlace | None:
    """The apprehension place as officers give it: the server seals its name."""
    if place is not None and not isinstance(place.name, str | None):
        raise ValueError("the place's name is sent in the clear; the server seals it")
    return place


ClearPlace = Annotated[ApprehensionPlace | None, AfterValidator(_clear_place)]


class OpenCaseBody(Body):
    agreement: str = Field(pattern=r"^[A-Za-z]{2,3}-[A-Za-z]{2,3}$", examples=["EU-UA"])
    protocol: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    requested: str = Field(pattern=r"^[A-Z]{2}$", description="the state asked to readmit")
    category: Category
    procedure: Procedure = Procedure.STANDARD
    person: Person
    evidence: ClearEvidence = Field(default_factory=list, max_length=100)
    knowledge_at: AwareDatetime | None = None
    apprehended_at: AwareDatetime | None = None
    apprehension_place: ClearPlace = None
    kind: CaseKind = Field(
        default=CaseKind.READMISSION,
        description="transit: ask the requested state to let the person pass (docs/transit.md)",
    )
    transit: TransitRequest | None = Field(
        default=None, description="a transit case's request: destination, assurance, plan"
    )


class EmptyBody(Body):
    pass


class AssignBody(Body):
    """A supervisor's assignment: the user id of an officer (or supervisor) of their own state,
    as the directory knows them."""

    officer: str = Field(
        min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$", examples=["officer.pl"]
    )


class EvidenceBody(Body):
    items: ClearEvidence = Field(min_length=1, max_length=100)


class ReasonsBody(Body):
    reasons: list[Text] = Field(min_length=1, max_length=50)


class NoteBody(Body):
    note: ShortText | None = None


class VerificationBody(Body):
    status: VerificationStatus
    score: Decimal = Field(ge=0, le=1, max_digits=4, decimal_places=3)
    reasons: list[Text] = Field(default_factory=list, max_length=50)
    interview_needed: bool = False


class TransferBody(Body):
    on: AwareDatetime = Field(description="the transfer's date and time")
    bcp: ShortText
    mode: TransferMode
    escorts: int = Field(default=0, ge=0, le=20)


class TransferExtensionBody(Body):
    days: int = Field(gt=0, le=365)
    reasons: list[Text] = Field(min_length=1, max_length=50)


class TransitScheduleBody(Body):
    on: AwareDatetime = Field(description="the transit's date and time")
    entry_point: ShortText
    exit_point: ShortText
    escorts: int = Field(default=0, ge=0, le=20)
    flight: FlightDetails | None = None


class TransitFailureBody(Body):
    reasons: list[Text] = Field(min_length=1, max_length=50)
    entry_refused: bool = False


class ReturnBody(TransferBody):
    """The return of a person readmitted in error: as a transfer, the other way."""

    on: AwareDatetime = Field(description="the return's date and time")


class PersonBody(Body):
    """The person's data as corrected, in the clear: the server seals it with the case key."""

    person: Person
