"""Events: what happened to a case, in the past tense.

Events are a discriminated union on `type`, each with a `schema_version`. Stored events are read
back through `parse_event`, which first applies the registered upcasters so that an event written
by an older release is lifted to the current schema before validation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, TypeAdapter

from domain.agreements import AgreementTerms, Category, Frozen
from domain.attachment_record import AttachmentId, MediaType, Sha256
from domain.deadlines import Deadline
from domain.message_values import MessageKind, MessageTextRecord
from domain.transit_request import TransitPlan, TransitRequest
from domain.values import (
    CURRENT_RULESET,
    LEGACY_RULESET,
    ApprehensionPlace,
    CaseKind,
    EscalationLevel,
    GradedEvidence,
    NoteRecord,
    PartySide,
    PersonRecord,
    Procedure,
    ReasonsRecord,
    TransferPlan,
    VerificationOutcome,
)


class EventBase(Frozen):
    schema_version: int = 1
    at: AwareDatetime


class CaseOpened(EventBase):
    type: Literal["CaseOpened"] = "CaseOpened"
    case_id: str
    terms: AgreementTerms
    category: Category
    procedure: Procedure
    person: PersonRecord
    evidence: tuple[GradedEvidence, ...] = ()
    knowledge_at: AwareDatetime | None = None
    apprehended_at: AwareDatetime | None = None
    apprehension_place: ApprehensionPlace | None = None
    # absent from events of cases opened before rulesets existed: those run under the first one
    ruleset: int = Field(default=LEGACY_RULESET, ge=LEGACY_RULESET, le=CURRENT_RULESET)
    # transit cases only (docs/transit.md): a readmission case's event is stored as before
    kind: CaseKind = Field(
        default=CaseKind.READMISSION, exclude_if=lambda kind: kind is CaseKind.READMISSION
    )
    transit: TransitRequest | None = Field(default=None, exclude_if=lambda request: request is None)


class EvidenceAdded(EventBase):
    type: Literal["EvidenceAdded"] = "EvidenceAdded"
    items: tuple[GradedEvidence, ...]


class ApplicationSubmitted(EventBase):
    type: Literal["ApplicationSubmitted"] = "ApplicationSubmitted"


class ApplicationDelivered(EventBase):
    """The application reached the requested state (its side of the case, its inbox): the
    instant of receipt from which the reply limit runs."""

    type: Literal["ApplicationDelivered"] = "ApplicationDelivered"
    to: str


class DeadlineSet(EventBase):
    type: Literal["DeadlineSet"] = "DeadlineSet"
    deadline: Deadline


class ReceiptConfirmed(EventBase):
    """Ruleset 1 only: the requested state's confirmation, which was then the receipt."""

    type: Literal["ReceiptConfirmed"] = "ReceiptConfirmed"


class ReceiptAcknowledged(EventBase):
    """An officer of the requested state acknowledged the delivered application; no limit moves."""

    type: Literal["ReceiptAcknowledged"] = "ReceiptAcknowledged"


class VerificationRecorded(EventBase):
    type: Literal["VerificationRecorded"] = "VerificationRecorded"
    outcome: VerificationOutcome


class ReplyLimitExtended(EventBase):
    type: Literal["ReplyLimitExtended"] = "ReplyLimitExtended"
    limit: str
    reasons: ReasonsRecord


class ApplicationAccepted(EventBase):
    type: Literal["ApplicationAccepted"] = "ApplicationAccepted"
    note: NoteRecord | None = None


class ApplicationRefused(EventBase):
    type: Literal["ApplicationRefused"] = "ApplicationRefused"
    reasons: ReasonsRecord


class DeemedAccepted(EventBase):
    type: Literal["DeemedAccepted"] = "DeemedAccepted"
    limit: str


class DeadlineEscalated(EventBase):
    type: Literal["DeadlineEscalated"] = "DeadlineEscalated"
    limit: str
    level: EscalationLevel
    due: AwareDatetime


class LimitLapsed(EventBase):
    type: Literal["LimitLapsed"] = "LimitLapsed"
    limit: str


class TransferScheduled(EventBase):
    type: Literal["TransferScheduled"] = "TransferScheduled"
    plan: TransferPlan


class TransferConfirmed(EventBase):
    """The other side confirmed the notified transfer, or (`deemed`) its silence did."""

    type: Literal["TransferConfirmed"] = "TransferConfirmed"
    deemed: bool = False
    note: NoteRecord | None = None


class TransferObjected(EventBase):
    type: Literal["TransferObjected"] = "TransferObjected"
    reasons: ReasonsRecord


class TransferCompleted(EventBase):
    type: Literal["TransferCompleted"] = "TransferCompleted"


class TransferLimitExtended(EventBase):
    type: Literal["TransferLimitExtended"] = "TransferLimitExtended"
    days: int
    reasons: ReasonsRecord


class ReadmissionInErrorClaimed(EventBase):
    type: Literal["ReadmissionInErrorClaimed"] = "ReadmissionInErrorClaimed"
    reasons: ReasonsRecord


class ErrorClaimed(EventBase):
    """Ruleset 2: the requested state claims readmission in error; the requesting state answers."""

    type: Literal["ErrorClaimed"] = "ErrorClaimed"
    reasons: ReasonsRecord


class ErrorClaimAccepted(EventBase):
    type: Literal["ErrorClaimAccepted"] = "ErrorClaimAccepted"
    note: NoteRecord | None = None


class ErrorClaimDeemedAccepted(EventBase):
    """No answer to the claim within its limit, whose consequence is deemed acceptance."""

    type: Literal["ErrorClaimDeemedAccepted"] = "ErrorClaimDeemedAccepted"
    limit: str


class ErrorClaimDisputed(EventBase):
    type: Literal["ErrorClaimDisputed"] = "ErrorClaimDisputed"
    reasons: ReasonsRecord


class ReturnScheduled(EventBase):
    """The requested state's plan to hand the person back to the requesting state."""

    type: Literal["ReturnScheduled"] = "ReturnScheduled"
    plan: TransferPlan


class ReturnCompleted(EventBase):
    type: Literal["ReturnCompleted"] = "ReturnCompleted"


class PersonAmended(EventBase):
    """The person's data as corrected (sealed); the earlier versions stay in the history."""

    type: Literal["PersonAmended"] = "PersonAmended"
    person: PersonRecord


class CaseWithdrawn(EventBase):
    type: Literal["CaseWithdrawn"] = "CaseWithdrawn"
    reasons: ReasonsRecord


class CaseClosed(EventBase):
    type: Literal["CaseClosed"] = "CaseClosed"
    outcome: str


# --- transit cases (domain.transit) -------------------------------------------------------


class TransitConsented(EventBase):
    type: Literal["TransitConsented"] = "TransitConsented"
    note: NoteRecord | None = None


class TransitRefused(EventBase):
    type: Literal["TransitRefused"] = "TransitRefused"
    reasons: ReasonsRecord


class TransitDeemedConsented(EventBase):
    """The transit reply limit passed in silence, and the terms say silence is consent."""

    type: Literal["TransitDeemedConsented"] = "TransitDeemedConsented"
    limit: str


class TransitScheduled(EventBase):
    type: Literal["TransitScheduled"] = "TransitScheduled"
    plan: TransitPlan


class TransitCompleted(EventBase):
    type: Literal["TransitCompleted"] = "TransitCompleted"


class TransitFailed(EventBase):
    type: Literal["TransitFailed"] = "TransitFailed"
    reasons: ReasonsRecord
    entry_refused: bool = False


class PersonTakenBack(EventBase):
    type: Literal["PersonTakenBack"] = "PersonTakenBack"
    note: NoteRecord | None = None


class CaseAssigned(EventBase):
    """One side of the case has a new assignee (`None`: released, the side has none). Who
    claimed, released or assigned it is the event's actor, in its metadata."""

    type: Literal["CaseAssigned"] = "CaseAssigned"
    side: PartySide
    assignee: str | None


class ReplyDrafted(EventBase):
    """An officer drafted the reply (`accept` or `refuse`, with its note or reasons, sealed
    like the reply's own) where a supervisor's approval is required before it leaves. Local to
    the requested state's node; it does not stop the reply clock."""

    type: Literal["ReplyDrafted"] = "ReplyDrafted"
    reply: Literal["accept", "refuse"]
    note: NoteRecord | None = None
    reasons: ReasonsRecord = ()
    by: str


class ReplyReturned(EventBase):
    """A supervisor returned the drafted reply to its officer, with reasons (sealed)."""

    type: Literal["ReplyReturned"] = "ReplyReturned"
    reasons: ReasonsRecord


class AttachmentAdded(EventBase):
    """A file was added to the case (domain.attachments): its SHA-256, so the hash chain covers
    the bytes, its sniffed type and size, and the officer's sealed description; the sealed bytes
    are in the attachment store, keyed by the case and the hash."""

    type: Literal["AttachmentAdded"] = "AttachmentAdded"
    side: PartySide
    by: str
    attachment_id: AttachmentId
    sha256: Sha256
    media_type: MediaType
    size: Annotated[int, Field(gt=0)]
    note: NoteRecord | None = None


class CaseMessageSent(EventBase):
    """One side wrote to the other (`domain.messages`): its text sealed with the case key, the
    message it answers if any, and for a request for information the instant by which the
    terms say it is to be answered (None where they set no limit). Its author is the event's
    actor, in its metadata."""

    type: Literal["CaseMessageSent"] = "CaseMessageSent"
    message_id: UUID
    side: PartySide
    kind: MessageKind
    text: MessageTextRecord
    answers: UUID | None = None
    answer_due: AwareDatetime | None = None


class EscalationAcknowledged(EventBase):
    """A supervisor of the acting side acknowledged the escalation of the limit's deadline ending
    `due` (`domain.escalations`): it is repeated no more. Who did is the event's actor."""

    type: Literal["EscalationAcknowledged"] = "EscalationAcknowledged"
    side: PartySide
    limit: str
    due: AwareDatetime


class EscalationRepeated(EventBase):
    """The escalation of a limit that passed at `due` and still runs was sent again, its
    `repeat`-th time (`domain.escalations`)."""

    type: Literal["EscalationRepeated"] = "EscalationRepeated"
    limit: str
    due: AwareDatetime
    repeat: int


Event = Annotated[
    CaseOpened
    | EvidenceAdded
    | ApplicationSubmitted
    | ApplicationDelivered
    | DeadlineSet
    | ReceiptConfirmed
    | ReceiptAcknowledged
    | VerificationRecorded
    | ReplyLimitExtended
    | ApplicationAccepted
    | ApplicationRefused
    | DeemedAccepted
    | DeadlineEscalated
    | LimitLapsed
    | TransferScheduled
    | TransferConfirmed
    | TransferObjected
    | TransferCompleted
    | TransferLimitExtended
    | ReadmissionInErrorClaimed
    | ErrorClaimed
    | ErrorClaimAccepted
    | ErrorClaimDeemedAccepted
    | ErrorClaimDisputed
    | ReturnScheduled
    | ReturnCompleted
    | PersonAmended
    | CaseWithdrawn
    | CaseClosed
    | TransitConsented
    | TransitRefused
    | TransitDeemedConsented
    | TransitScheduled
    | TransitCompleted
    | TransitFailed
    | PersonTakenBack
    | CaseAssigned
    | ReplyDrafted
    | ReplyReturned
    | AttachmentAdded
    | CaseMessageSent
    | EscalationAcknowledged
    | EscalationRepeated,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

EVENT_TYPES: dict[str, type[EventBase]] = {
    cls.model_fields["type"].default: cls
    for cls in EventBase.__subclasses__()
    if "type" in cls.model_fields
}

# The schema version each event type is written with today.
CURRENT_SCHEMA: dict[str, int] = {
    name: int(cls.model_fields["schema_version"].default) for name, cls in EVENT_TYPES.items()
}

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# (event type, schema version it reads) -> function returning the next version's dict.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def register_upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function lifting `event_type` from `from_version` to `from_version + 1`."""

    def decorator(fn: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = fn
        return fn

    return decorator


def upcast(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Lift a stored event dict to the current schema version of its type."""
    data = dict(raw)
    event_type = str(data.get("type"))
    current = CURRENT_SCHEMA.get(event_type, 1)
    version = int(data.get("schema_version", 1))
    while version < current:
        step = UPCASTERS.get((event_type, version))
        if step is None:
            raise ValueError(f"no upcaster for {event_type} schema version {version}")
        data = step(data)
        version += 1
        data["schema_version"] = version
    return data


def parse_event(raw: Mapping[str, Any]) -> Event:
    """Validate a stored (possibly older) event dict into the current event model."""
    return EVENT_ADAPTER.validate_python(upcast(raw))


def dump_event(event: Event) -> dict[str, Any]:
    """The JSON-ready dict stored for an event: no floats (decimals are strings), ISO instants."""
    return event.model_dump(mode="json", by_alias=True)


def to_stored(event: Event) -> tuple[str, int, dict[str, Any]]:
    """(type, schema_version, data) as the event store keeps them in separate columns."""
    data = dump_event(event)
    return str(data.pop("type")), int(data.pop("schema_version")), data


def from_stored(event_type: str, schema_version: int, data: Mapping[str, Any]) -> Event:
    """The inverse of `to_stored`, upcasting older schema versions."""
    return parse_event({**data, "type": event_type, "schema_version": schema_version})
