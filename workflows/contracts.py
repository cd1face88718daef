"""What crosses the Temporal boundary: one model in, one model out, for every call.

Adding a field with a default never breaks a running workflow; renaming or removing one does.

A command's events travel to the store as `domain.stored.NewEvent` (in `CommitInput`), the one
form an event has on its way in; the command's update answers with `RecordedEvent`s, short
references (id, version, type, instant) kept in Temporal's history instead of the events.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from domain.agreements import Frozen
from domain.alarms import Alarm, ReminderPolicy
from domain.commands import Command, OpenCase
from domain.deadlines import Deadline
from domain.events import Event
from domain.notices import Notice
from domain.state import CaseState
from domain.stored import NewEvent
from domain.values import GradedEvidence, PersonRecord, VerificationOutcome

QUEUE_PREFIX = "readmit"
WORKFLOW_NAME = "ReadmissionCase"

# Activity names (the workflow refers to activities by name, so it imports no I/O code).
COMMIT_EVENTS = "commit_case_events"  # a local activity: events and their notices, one statement
VERIFY_IDENTITY = "verify_identity"
ERASE_EXPIRED = "erase_expired_personal_data"
RETENTION_WORKFLOW = "RetentionSweep"
TAKE_CHECKPOINT = "take_audit_checkpoint"
CHECKPOINT_WORKFLOW = "AuditCheckpoint"
DELIVERY_WORKFLOW = "MessageDelivery"
DELIVER_MESSAGE = "deliver_message"
DROP_REFUSED_ATTACHMENT = "drop_refused_attachment"  # a refused crossing file's stored bytes


def cases_queue(prefix: str = QUEUE_PREFIX) -> str:
    """The shared queue of case workflows (their commits are local activities) and the
    retention sweep."""
    return f"{prefix}-cases"


def state_queue(state: str, prefix: str = QUEUE_PREFIX) -> str:
    """The task queue of one state's own systems (its registry, searched to verify identities)."""
    return f"{prefix}-state-{state}"


class Actor(Frozen):
    user_id: str = Field(min_length=1, max_length=200)
    state: str = Field(pattern=r"^([A-Z]{2}|\*)$")
    role: str = Field(pattern=r"^(officer|supervisor|auditor|admin|system)$")


SYSTEM = Actor(user_id="readmit", state="*", role="system")


class CommandSignature(Frozen):
    """The API's Ed25519 signature over a command request (adapters/temporal/command_signing.py):
    which key signed, when, and the signature itself (base64). Workers check it before the
    workflow's validator runs; the workflow itself cannot (no cryptography in workflows/)."""

    key_id: str = Field(min_length=1, max_length=100)
    issued_at: AwareDatetime
    value: str = Field(min_length=1, max_length=200)


MessageKind = Literal["command", "consequence"]
STATE_CODE = r"^[A-Z]{2}$"


class PeerMessage(Frozen):
    """What a command that came from the other node carries besides itself (docs/federation.md):
    the message it came in, verified by the receiving API before it signed the request. `opening`
    is the case's opening, on the message that submits it."""

    message_id: UUID
    sender: str = Field(pattern=STATE_CODE)
    seq: int = Field(ge=1)
    peer_seen: int = Field(ge=0)
    sent_at: AwareDatetime
    kind: MessageKind = "command"
    opening: OpenCase | None = None


class CommandRequest(Frozen):
    """An update: the command (its `at` is replaced by the workflow's clock), who sent it and
    the API's signature over both, the case and the update id. Recorded histories from before
    signatures carry none: validators do not run on replay. `peer` is set on a command that came
    from the other node of a federated case."""

    command: Command
    actor: Actor
    correlation_id: str | None = None
    signature: CommandSignature | None = None
    peer: PeerMessage | None = None


class RecordedEvent(Frozen):
    """One event a command recorded: which, where, what and when. The event itself is in the
    event store; the update's result (kept in Temporal's history) does not repeat it."""

    event_id: UUID
    version: int
    type: str
    at: AwareDatetime


class MessageRef(Frozen):
    """A command on its way to the other node: it takes effect on both once that node's receipt
    is back (docs/federation.md)."""

    message_id: UUID
    seq: int
    recipient: str


class CommandResult(Frozen):
    """What a command did: its events, or (`sending`) the message carrying it to the other node
    of a federated case; `at` is the instant its events were recorded."""

    case_id: str
    version: int
    status: str
    events: tuple[RecordedEvent, ...]
    sending: MessageRef | None = None
    at: AwareDatetime | None = None


class FederationInput(Frozen):
    """A case shared by two nodes: this node's state, the other's, and how far their clocks may
    differ (`domain.federation`)."""

    node_state: str = Field(pattern=STATE_CODE)
    peer_state: str = Field(pattern=STATE_CODE)
    clock_skew_seconds: int = Field(default=120, ge=0, le=3600)


class Outgoing(Frozen):
    """A message of this node's queue for the case, in order: a command (applied here once
    receipted) or a consequence (applied here already)."""

    message_id: UUID
    seq: int = Field(ge=1)
    peer_seen: int = Field(ge=0)
    kind: MessageKind
    command: Command
    actor: Actor
    sent_at: AwareDatetime
    opening: OpenCase | None = None


class Refused(Frozen):
    """A message of this node the other refused (its signed error receipt is stored)."""

    message_id: UUID
    seq: int
    command: str
    code: str
    detail: str


class Exchange(Frozen):
    """Where a federated case's exchange stands: the highest sequence number taken from the
    peer (`in_seq`), the last assigned here (`out_seq`), the highest of this node's own applied
    here (`out_applied`), the queue and the last refusals (whose numbers went to the next)."""

    in_seq: int = 0
    out_seq: int = 0
    out_applied: int = 0
    outbox: tuple[Outgoing, ...] = ()
    refused: tuple[Refused, ...] = ()


class DeliverInput(Frozen):
    """One message to deliver: the case, the recipient and the queued message."""

    case_id: str
    sender: str = Field(pattern=STATE_CODE)
    recipient: str = Field(pattern=STATE_CODE)
    message: Outgoing
    attempts_for_days: int = Field(default=14, ge=1, le=60)


class Delivered(Frozen):
    """The other node's verified receipt: `applied` (with the events it recorded and when) or
    `refused` (its code and whether the refusal is final: retryable ones are retried)."""

    message_id: UUID
    outcome: Literal["applied", "refused"]
    received_at: AwareDatetime
    event_ids: tuple[UUID, ...] = ()
    code: str | None = None
    detail: str | None = None


class CaseInput(Frozen):
    """Start (or continue-as-new) input: everything the workflow holds between runs."""

    case_id: str
    state: CaseState | None = None
    reminders: dict[str, tuple[Alarm, ...]] = Field(default_factory=dict)
    verification_pending: bool = False
    policy: ReminderPolicy = ReminderPolicy()
    queue_prefix: str = Field(default=QUEUE_PREFIX, pattern=r"^[a-z0-9-]{1,40}$")
    history_limit: int = Field(default=5000, ge=50, description="continue-as-new past this")
    federation: FederationInput | None = None
    exchange: Exchange = Exchange()


class CaseOutcome(Frozen):
    """A case workflow's result: how the case ended. (The state is in the event store, and in
    the `view` query.)"""

    case_id: str
    status: str
    version: int


class CaseView(Frozen):
    """What a query returns: the folded state plus the clock's plans."""

    state: CaseState
    reminders: dict[str, tuple[Alarm, ...]]
    next_alarm: Alarm | None = None
    exchange: Exchange | None = None


# --- activities -----------------------------------------------------------------------------


class CommitInput(Frozen):
    """A command's events to append after `expected_version`, with the notices they cause
    (written in the same statement) and the policy that plans their deadlines' reminders."""

    case_id: str
    expected_version: int
    events: tuple[NewEvent, ...]
    notices: tuple[Notice, ...] = ()
    policy: ReminderPolicy = ReminderPolicy()


class CommitResult(Frozen):
    """What was recorded: `event_ids` up to `version`. `recorded` holds the events themselves
    only when they differ from those sent. A workflow task retried after its worker died
    decides again, later, with the same event ids, and the store's first record stands: the
    same command's events as first recorded, or (`superseded`) those of another update the
    first attempt took first, on top of which this command is still to be decided.
    `deadlines` are those the recorded events set, and `reminders` are planned from them: a
    replay goes on from these (kept in history), not from deadlines computed again with the
    calendars installed then."""

    version: int
    event_ids: tuple[UUID, ...]
    recorded: tuple[Event, ...] = ()
    superseded: bool = False
    deadlines: tuple[Deadline, ...] = ()
    reminders: dict[str, tuple[Alarm, ...]] = Field(default_factory=dict)


class VerifyIdentityInput(Frozen):
    case_id: str
    state: str = Field(description="the requested state, whose registry is searched")
    person: PersonRecord
    evidence: tuple[GradedEvidence, ...]
    at: AwareDatetime


class VerifyIdentityResult(Frozen):
    outcome: VerificationOutcome


class RetentionInput(Frozen):
    """One sweep of the retention schedule; `batch` keys are erased per activity call."""

    batch: int = Field(default=500, ge=1, le=10_000)


class EraseExpiredInput(Frozen):
    at: AwareDatetime
    limit: int = Field(ge=1, le=10_000)


class EraseExpiredResult(Frozen):
    erased: tuple[str, ...] = ()


class RetentionResult(Frozen):
    erased: int = 0
    batches: int = 0


class CheckpointInput(Frozen):
    """One run of the audit checkpoint schedule; `attempts` bounds the activity's retries (the
    next scheduled run takes a fresh checkpoint anyway)."""

    attempts: int = Field(default=10, ge=1, le=100)


class TakeCheckpointInput(Frozen):
    """Take, sign and deliver a checkpoint of every case's head."""


class CheckpointResult(Frozen):
    """A checkpoint taken and delivered: where it stands and who took it (file names, hosts)."""

    global_position: int
    cases: int
    merkle_root: str
    created_at: str
    delivered: tuple[str, ...] = ()


class DropAttachmentInput(Frozen):
    """The stored bytes of a file whose crossing `AddAttachment` the other node refused: no
    event names them, so the sending node removes them (issue 17)."""

    case_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class DropAttachmentResult(Frozen):
    removed: bool
