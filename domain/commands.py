"""Commands: what officers (and the clock) ask of a case, in the imperative.

Every command carries the instant `at` at which it is issued (from `workflow.now()` or the
request); the deadlines it starts are computed when it is decided (`domain.deadline_starts`).
The `command` field names it in snake_case, as in scenario files and the API.

`CATALOGUE` is the list of commands, once: each model with the side that issues it (`BY_NAME`
finds one by its name). How officers reach each one (HTTP path, CLI name, form) is the API's half
of it, `api.commands`; the case's own side of it (the workflow refusing the clock's commands from
officers, `domain.actions` listing what a case waits for) reads this half.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, TypeAdapter

from domain.agreements import AgreementTerms, Category, Frozen
from domain.attachment_record import AttachmentId, MediaType, Sha256
from domain.message_values import MessageKind, MessageTextRecord
from domain.transit_request import FlightDetails, TransitRequest
from domain.values import (
    CURRENT_RULESET,
    LEGACY_RULESET,
    ApprehensionPlace,
    CaseKind,
    EscalationLevel,
    EvidenceItem,
    NoteRecord,
    PartySide,
    PersonRecord,
    Procedure,
    ReasonsRecord,
    Sealed,
    ShortText,
    Side,
    TransferMode,
    VerificationOutcome,
)

CASE_ID_PATTERN = r"^[A-Z]{2}-[A-Z]{2}-\d{4}-\d{6}$"


class CommandBase(Frozen):
    at: AwareDatetime


class OpenCase(CommandBase):
    command: Literal["open_case"] = "open_case"
    case_id: Annotated[str, Field(pattern=CASE_ID_PATTERN)]
    terms: AgreementTerms
    category: Category
    procedure: Procedure = Procedure.STANDARD
    person: PersonRecord
    evidence: tuple[EvidenceItem, ...] = Field(default=(), max_length=100)
    knowledge_at: AwareDatetime | None = None
    apprehended_at: AwareDatetime | None = None
    apprehension_place: ApprehensionPlace | None = None
    # a transit case (docs/transit.md) gives its request instead of knowledge or apprehension
    kind: CaseKind = CaseKind.READMISSION
    transit: TransitRequest | None = None
    # set by the case workflow (never taken from a caller): the procedures the case runs under
    ruleset: int = Field(default=CURRENT_RULESET, ge=LEGACY_RULESET, le=CURRENT_RULESET)


class AddEvidence(CommandBase):
    command: Literal["add_evidence"] = "add_evidence"
    items: tuple[EvidenceItem, ...] = Field(min_length=1, max_length=100)


class SubmitApplication(CommandBase):
    command: Literal["submit"] = "submit"


class ConfirmReceipt(CommandBase):
    """The requested state's officer acknowledges the application (delivery already counted as
    its receipt; under ruleset 1 this confirmation was the receipt)."""

    command: Literal["confirm_receipt"] = "confirm_receipt"


class RecordVerification(CommandBase):
    command: Literal["record_verification"] = "record_verification"
    outcome: VerificationOutcome


class ExtendReplyLimit(CommandBase):
    command: Literal["extend_reply"] = "extend_reply"
    reasons: ReasonsRecord


class AcceptApplication(CommandBase):
    command: Literal["accept"] = "accept"
    note: NoteRecord | None = None


class RefuseApplication(CommandBase):
    command: Literal["refuse"] = "refuse"
    reasons: ReasonsRecord


class ExpireLimit(CommandBase):
    """Time-driven: the workflow's timer says a limit's deadline has passed."""

    command: Literal["expire_limit"] = "expire_limit"
    limit: str


class RecordEscalation(CommandBase):
    """Time-driven: a reminder or supervisor escalation was sent for a running limit."""

    command: Literal["record_escalation"] = "record_escalation"
    limit: str
    level: EscalationLevel


class ScheduleTransfer(CommandBase):
    command: Literal["schedule_transfer"] = "schedule_transfer"
    on: AwareDatetime
    bcp: ShortText
    mode: TransferMode
    escorts: int = Field(default=0, ge=0, le=20)


class ConfirmTransfer(CommandBase):
    """The requested state agrees to the notified transfer (date, crossing point, mode)."""

    command: Literal["confirm_transfer"] = "confirm_transfer"
    note: NoteRecord | None = None


class ObjectToTransfer(CommandBase):
    """The requested state cannot take the person as notified; the requesting state reschedules."""

    command: Literal["object_to_transfer"] = "object_to_transfer"
    reasons: ReasonsRecord


class CompleteTransfer(CommandBase):
    command: Literal["complete_transfer"] = "complete_transfer"


class ExtendTransferLimit(CommandBase):
    command: Literal["extend_transfer"] = "extend_transfer"
    days: int = Field(gt=0, le=365)
    reasons: ReasonsRecord


class ClaimReadmissionInError(CommandBase):
    """The requested state claims, within the window after the transfer, that the person was
    readmitted in error (ruleset 1: the claim alone returned the case in error)."""

    command: Literal["claim_error"] = "claim_error"
    reasons: ReasonsRecord


class AcceptErrorClaim(CommandBase):
    """The requesting state accepts the claim of readmission in error: it takes the person back."""

    command: Literal["accept_error_claim"] = "accept_error_claim"
    note: NoteRecord | None = None


class DisputeErrorClaim(CommandBase):
    """The requesting state disputes the claim of readmission in error, with its reasons."""

    command: Literal["dispute_error_claim"] = "dispute_error_claim"
    reasons: ReasonsRecord


class ScheduleReturn(CommandBase):
    """The requested state plans handing the person back to the requesting state."""

    command: Literal["schedule_return"] = "schedule_return"
    on: AwareDatetime
    bcp: ShortText
    mode: TransferMode
    escorts: int = Field(default=0, ge=0, le=20)


class CompleteReturn(CommandBase):
    """The requested state records that the person was handed back."""

    command: Literal["complete_return"] = "complete_return"


class AmendPerson(CommandBase):
    """The requesting state corrects the person's data (sealed like the opening's); the earlier
    version stays in the history."""

    command: Literal["amend_person"] = "amend_person"
    person: PersonRecord


class WithdrawCase(CommandBase):
    command: Literal["withdraw"] = "withdraw"
    reasons: ReasonsRecord


class CloseCase(CommandBase):
    command: Literal["close"] = "close"


# --- transit cases (domain.transit) -------------------------------------------------------


class ConsentTransit(CommandBase):
    command: Literal["consent_transit"] = "consent_transit"
    note: NoteRecord | None = None


class RefuseTransit(CommandBase):
    command: Literal["refuse_transit"] = "refuse_transit"
    reasons: ReasonsRecord


class ScheduleTransit(CommandBase):
    command: Literal["schedule_transit"] = "schedule_transit"
    on: AwareDatetime
    entry_point: ShortText
    exit_point: ShortText
    escorts: int = Field(default=0, ge=0, le=20)
    flight: FlightDetails | None = None


class CompleteTransit(CommandBase):
    """The requested state records that the person left its territory for the destination."""

    command: Literal["complete_transit"] = "complete_transit"


class ReportTransitFailure(CommandBase):
    """The transit could not go on, or the destination refused entry: the person is back in
    (or still in) the requested state, and the requesting state must take them back."""

    command: Literal["report_transit_failure"] = "report_transit_failure"
    reasons: ReasonsRecord
    entry_refused: bool = False


class TakeBack(CommandBase):
    command: Literal["take_back"] = "take_back"
    note: NoteRecord | None = None


# --- assignment (domain.assignment): each side of a case has an assignee --------------------


UserId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class ClaimCase(CommandBase):
    """An officer or supervisor takes the case for their side. `side` and `by` are the caller's
    (the API sets them from the token, the case workflow checks them against the actor)."""

    command: Literal["claim_case"] = "claim_case"
    side: PartySide
    by: UserId


class ReleaseCase(CommandBase):
    """The side's assignee gives the case back: the side has no assignee until one claims it or
    a supervisor assigns it."""

    command: Literal["release_case"] = "release_case"
    side: PartySide
    by: UserId


class AssignCase(CommandBase):
    """A supervisor assigns (or reassigns) their side of the case to one of their state's
    officers (the API checks the officer against the directory)."""

    command: Literal["assign_case"] = "assign_case"
    side: PartySide
    officer: UserId


ASSIGNMENT_COMMANDS = (ClaimCase, ReleaseCase, AssignCase)


# --- a reply's approval (domain.reply_approval): a supervisor lets a drafted reply leave ------


class DraftReply(CommandBase):
    """An officer of the requested state drafts the reply (`accept`, with an optional note, or
    `refuse`, with reasons) where their state requires a supervisor's approval before a reply
    leaves. `by` is the drafting officer (the API sets it from the token, the case workflow
    checks it against the actor). The draft stays on the officer's node; the reply clock runs on."""

    command: Literal["draft_reply"] = "draft_reply"
    reply: Literal["accept", "refuse"]
    note: NoteRecord | None = None
    reasons: ReasonsRecord = ()
    by: UserId


class ApproveReply(CommandBase):
    """A supervisor of the requested state approves the drafted reply: it is issued as the real
    reply (`AcceptApplication` or `RefuseApplication`) at this instant, the one it counts from."""

    command: Literal["approve_reply"] = "approve_reply"


class ReturnReply(CommandBase):
    """A supervisor of the requested state returns the drafted reply to its officer, with
    reasons; the officer may draft again."""

    command: Literal["return_reply"] = "return_reply"
    reasons: ReasonsRecord


# --- attachments (domain.attachments): scans, photos and documents of a case ----------------


class AddAttachment(CommandBase):
    """An officer of either side adds a file to the case: the API has sniffed its type, hashed
    its bytes and sealed them in the attachment store; the case records the hash. `note` is the
    officer's description (sealed like any note); `side` and `by` are the caller's."""

    command: Literal["add_attachment"] = "add_attachment"
    side: PartySide
    by: UserId
    attachment_id: AttachmentId
    sha256: Sha256
    media_type: MediaType
    size: Annotated[int, Field(gt=0)]
    note: NoteRecord | None = None


# --- messages (domain.messages): the case's conversation between the two states -------------


class SendCaseMessage(CommandBase):
    """One side writes to the other: a request for information or an interview (the requested
    state), an answer to one (the requesting state), or a note (either). The API names the
    message (`message_id`) and its side (the caller's); its text is sealed with the case key."""

    command: Literal["send_case_message"] = "send_case_message"
    side: PartySide
    message_id: UUID
    kind: MessageKind
    text: MessageTextRecord
    answers: UUID | None = None


# --- escalations (domain.escalations): a supervisor acknowledges them, which stops repeats ----


class AcknowledgeEscalation(CommandBase):
    """A supervisor of a side acknowledges the escalations of its limits (`domain.escalations`):
    the repeats of each stop. `side` and `by` are the caller's (as for assignment)."""

    command: Literal["acknowledge_escalation"] = "acknowledge_escalation"
    side: PartySide
    by: UserId


class RepeatEscalation(CommandBase):
    """Time-driven: the escalation of a limit that passed and still runs (`OnExpiry.ESCALATE`)
    is sent again, its `repeat`-th time, nobody having acknowledged it."""

    command: Literal["repeat_escalation"] = "repeat_escalation"
    limit: str
    repeat: int = Field(ge=1)


Command = Annotated[
    OpenCase
    | AddEvidence
    | SubmitApplication
    | ConfirmReceipt
    | RecordVerification
    | ExtendReplyLimit
    | AcceptApplication
    | RefuseApplication
    | ExpireLimit
    | RecordEscalation
    | ScheduleTransfer
    | ConfirmTransfer
    | ObjectToTransfer
    | CompleteTransfer
    | ExtendTransferLimit
    | ClaimReadmissionInError
    | AcceptErrorClaim
    | DisputeErrorClaim
    | ScheduleReturn
    | CompleteReturn
    | AmendPerson
    | WithdrawCase
    | CloseCase
    | ConsentTransit
    | RefuseTransit
    | ScheduleTransit
    | CompleteTransit
    | ReportTransitFailure
    | TakeBack
    | ClaimCase
    | ReleaseCase
    | AssignCase
    | DraftReply
    | ApproveReply
    | ReturnReply
    | AddAttachment
    | SendCaseMessage
    | AcknowledgeEscalation
    | RepeatEscalation,
    Field(discriminator="command"),
]


@dataclass(frozen=True)
class CommandKind:
    """One command of the catalogue: its model, the side whose officers issue it (`system`: the
    case's own clock; `either`: either party's, the command naming its side, see `issued_by`),
    `flat`, a nested model whose fields API bodies and scenario steps give at the top level (a
    verification's `status`, `score`... for its `outcome`), and `local`: the command is the
    acting node's own business (who works on the case there) and never crosses to the other
    node of a shared case (`domain.federation.crosses`), nor is it a move the case waits for."""

    model: type[CommandBase]
    side: Side
    flat: str | None = None
    local: bool = False

    @property
    def name(self) -> str:
        """The command's name in snake_case, as the model's `command` field gives it."""
        return str(self.model.model_fields["command"].default)

    def build(self, at: datetime, fields: Mapping[str, Any]) -> Command:
        """The command issued at `at` from its own fields (with `flat` ones still flat)."""
        given = dict(fields)
        if self.flat is not None and self.flat not in given:
            nested = self.model.model_fields[self.flat].annotation
            assert isinstance(nested, type) and issubclass(nested, BaseModel)
            inner = {k: given.pop(k) for k in nested.model_fields if k in given}
            given[self.flat] = inner
        return COMMAND_ADAPTER.validate_python({**given, "command": self.name, "at": at})


# Every command once, with the side that issues it: the API, the CLI, the pages and the simulator
# read this (api/commands.py adds how officers reach each one).
CATALOGUE: tuple[CommandKind, ...] = (
    CommandKind(OpenCase, Side.REQUESTING),
    CommandKind(AddEvidence, Side.REQUESTING),
    CommandKind(SubmitApplication, Side.REQUESTING),
    CommandKind(ConfirmReceipt, Side.REQUESTED),
    CommandKind(RecordVerification, Side.REQUESTED, flat="outcome"),
    CommandKind(ExtendReplyLimit, Side.REQUESTED),
    CommandKind(AcceptApplication, Side.REQUESTED),
    CommandKind(RefuseApplication, Side.REQUESTED),
    CommandKind(ExpireLimit, Side.SYSTEM),
    CommandKind(RecordEscalation, Side.SYSTEM),
    CommandKind(ScheduleTransfer, Side.REQUESTING),
    CommandKind(ConfirmTransfer, Side.REQUESTED),
    CommandKind(ObjectToTransfer, Side.REQUESTED),
    CommandKind(CompleteTransfer, Side.REQUESTING),
    CommandKind(ExtendTransferLimit, Side.REQUESTING),
    CommandKind(ClaimReadmissionInError, Side.REQUESTED),
    CommandKind(AcceptErrorClaim, Side.REQUESTING),
    CommandKind(DisputeErrorClaim, Side.REQUESTING),
    CommandKind(ScheduleReturn, Side.REQUESTED),
    CommandKind(CompleteReturn, Side.REQUESTED),
    CommandKind(AmendPerson, Side.REQUESTING),
    CommandKind(WithdrawCase, Side.REQUESTING),
    CommandKind(CloseCase, Side.REQUESTING),
    CommandKind(ConsentTransit, Side.REQUESTED),
    CommandKind(RefuseTransit, Side.REQUESTED),
    CommandKind(ScheduleTransit, Side.REQUESTING),
    CommandKind(CompleteTransit, Side.REQUESTED),
    CommandKind(ReportTransitFailure, Side.REQUESTED),
    CommandKind(TakeBack, Side.REQUESTING),
    CommandKind(ClaimCase, Side.EITHER, local=True),
    CommandKind(ReleaseCase, Side.EITHER, local=True),
    CommandKind(AssignCase, Side.EITHER, local=True),
    CommandKind(DraftReply, Side.REQUESTED, local=True),
    CommandKind(ApproveReply, Side.REQUESTED, local=True),
    CommandKind(ReturnReply, Side.REQUESTED, local=True),
    CommandKind(AddAttachment, Side.EITHER),
    CommandKind(SendCaseMessage, Side.EITHER),
    CommandKind(AcknowledgeEscalation, Side.EITHER, local=True),
    CommandKind(RepeatEscalation, Side.SYSTEM),
)
BY_NAME: dict[str, CommandKind] = {kind.name: kind for kind in CATALOGUE}
COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)


def issued_by(command: Command) -> Side:
    """The side whose officers issue `command`: the catalogue's, or for a command either side
    issues (`Side.EITHER`), the side it names."""
    side = BY_NAME[command.command].side
    if side is Side.EITHER:
        assert isinstance(
            command,
            ClaimCase
            | ReleaseCase
            | AssignCase
            | AddAttachment
            | SendCaseMessage
            | AcknowledgeEscalation,
        )
        return command.side
    return side


# The free text of the commands (reasons, notes, a message's text): officers write what they
# need to, which may name the person, their family or their health, so it is sealed like the
# person.
FREE_TEXT_FIELDS = ("reasons", "note", "text")


def free_text_in_clear(command: Command) -> tuple[str, ...]:
    """Fields of `command` whose free text is unsealed: its reasons (when it gives any), its
    note, and the name of an opening's apprehension place."""
    found = [
        name
        for name in FREE_TEXT_FIELDS
        if isinstance(value := getattr(command, name, None), str)
        or (isinstance(value, tuple) and value)
    ]
    place = command.apprehension_place if isinstance(command, OpenCase) else None
    if place is not None and isinstance(place.name, str):
        found.append("apprehension_place.name")
    return tuple(found)


def personal_data_in_clear(command: Command) -> tuple[str, ...]:
    """Fields of `command` that carry personal data unsealed: a case refuses such commands.

    Personal data reaches a case only sealed with the case's key (`domain.values.Sealed`), so
    that erasing the key makes it unreadable everywhere, Temporal's history included: the
    person, evidence numbers and descriptions, a verification's reasons, and every free text.
    """
    match command:
        case OpenCase():
            fields = ["person"] if not isinstance(command.person, Sealed) else []
            if any(e.personal for e in command.evidence):
                fields.append("evidence")
        case AddEvidence():
            fields = ["items"] if any(e.personal for e in command.items) else []
        case AmendPerson():
            fields = ["person"] if not isinstance(command.person, Sealed) else []
        case RecordVerification():
            fields = ["outcome.reasons"] if command.outcome.reasons else []
        case _:
            fields = []
    return (*fields, *free_text_in_clear(command))
