"""The state of one case: what the decider needs and what officers see."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from domain.agreements import AgreementTerms, Category, Frozen
from domain.attachment_record import AttachmentRecord
from domain.deadlines import Deadline
from domain.message_values import MessageOnRecord
from domain.reply_drafts import ReplyDraft, ReplyReturn
from domain.transit_request import TransitPlan, TransitRequest
from domain.values import (
    LEGACY_RULESET,
    ApprehensionPlace,
    CaseKind,
    EscalationLevel,
    Grade,
    GradedEvidence,
    PersonRecord,
    Procedure,
    ReasonsRecord,
    Status,
    TransferPlan,
    VerificationOutcome,
    VerificationStatus,
)

FINAL_OUTCOMES: frozenset[Status] = frozenset(
    {
        Status.REFUSED,
        Status.WITHDRAWN,
        Status.LAPSED,
        Status.RETURNED_IN_ERROR,
        Status.ERROR_DISPUTED,
        Status.TAKEN_BACK,
    }
)


# The state's reasons, each as its event gave it (sealed, or clear in older histories): what
# opening a case's free text opens.
REASONS_FIELDS = (
    "refusal_reasons",
    "transfer_objection",
    "error_claim_reasons",
    "error_dispute_reasons",
    "withdrawal_reasons",
    "transit_failure_reasons",
)


class Escalation(Frozen):
    limit: str
    level: EscalationLevel
    due: AwareDatetime
    at: AwareDatetime

    def same_as(self, other: Escalation) -> bool:
        """The same reminder for the same deadline (a re-armed deadline gets new reminders)."""
        return (self.limit, self.level, self.due) == (other.limit, other.level, other.due)


class CaseState(Frozen):
    """Everything known about a case after folding its events (version = events folded)."""

    version: int = 0
    case_id: str | None = None
    ruleset: int = LEGACY_RULESET
    status: Status = Status.DRAFT
    terms: AgreementTerms | None = None
    category: Category | None = None
    procedure: Procedure | None = None
    person: PersonRecord | None = None
    evidence: tuple[GradedEvidence, ...] = ()
    knowledge_at: AwareDatetime | None = None
    apprehended_at: AwareDatetime | None = None
    apprehension_place: ApprehensionPlace | None = None
    opened_at: AwareDatetime | None = None
    submitted_at: AwareDatetime | None = None
    received_at: AwareDatetime | None = None
    acknowledged_at: AwareDatetime | None = None
    replied_at: AwareDatetime | None = None
    refusal_reasons: ReasonsRecord = ()
    verification: VerificationOutcome | None = None
    reply_extended: bool = False
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    open_limits: tuple[str, ...] = ()
    overdue: tuple[str, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    transfer: TransferPlan | None = None
    transfer_confirmed_at: AwareDatetime | None = None
    transfer_deemed_confirmed: bool = False
    transfer_objection: ReasonsRecord = ()
    transferred_at: AwareDatetime | None = None
    transfer_extension_days: int = 0
    error_claim_reasons: ReasonsRecord = ()
    error_claimed_at: AwareDatetime | None = None
    error_answered_at: AwareDatetime | None = None
    error_dispute_reasons: ReasonsRecord = ()
    return_plan: TransferPlan | None = None
    returned_at: AwareDatetime | None = None
    # when the person's data was corrected (`PersonAmended`), in order
    person_amended_at: tuple[AwareDatetime, ...] = ()
    withdrawal_reasons: ReasonsRecord = ()
    closed_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    # transit cases (domain.transit)
    kind: CaseKind = CaseKind.READMISSION
    transit: TransitRequest | None = None
    transit_plan: TransitPlan | None = None
    transited_at: AwareDatetime | None = None
    transit_failure_reasons: ReasonsRecord = ()
    entry_refused: bool = False
    taken_back_at: AwareDatetime | None = None
    # who works on the case on each side (`domain.assignment`): side value -> user id
    assignees: dict[str, str] = Field(default_factory=dict)
    # a reply awaiting a supervisor's approval, and the last one returned (domain.reply_approval)
    reply_draft: ReplyDraft | None = None
    reply_returned: ReplyReturn | None = None
    # the files added to the case (`domain.attachments`), oldest first
    attachments: tuple[AttachmentRecord, ...] = ()
    # the conversation between the two states (`domain.messages`): message id -> what the case
    # keeps of it to judge the next (the texts stay in the events)
    messages: dict[str, MessageOnRecord] = Field(default_factory=dict)
    # escalations (`domain.escalations`): each limit's deadline (its due instant) a supervisor
    # acknowledged, and the escalations sent again for a limit that passed and still runs
    acknowledged: dict[str, AwareDatetime] = Field(default_factory=dict)
    escalation_repeats: tuple[Escalation, ...] = ()

    @property
    def opened(self) -> bool:
        return self.case_id is not None

    @property
    def is_transit(self) -> bool:
        return self.kind is CaseKind.TRANSIT

    def limits_ended(self, *names: str) -> dict[str, tuple[str, ...]]:
        """`open_limits` and `overdue` once the limits `names` stop running (met, answered or
        ended): an `evolve` step's changes."""
        return {
            "open_limits": tuple(n for n in self.open_limits if n not in names),
            "overdue": tuple(n for n in self.overdue if n not in names),
        }

    @property
    def delivery_is_receipt(self) -> bool:
        """Whether delivery of the application starts the reply limit (ruleset 2 on); before,
        an officer's confirmation did."""
        return self.ruleset >= 2

    @property
    def error_is_a_procedure(self) -> bool:
        """Whether a claim of readmission in error opens a procedure (answer, return) (ruleset
        2 on); before, the claim alone returned the case in error."""
        return self.ruleset >= 2

    @property
    def has_proof(self) -> bool:
        return any(item.grade is Grade.PROOF for item in self.evidence)

    @property
    def verification_needed(self) -> bool:
        """Prima facie evidence alone calls for verification until a registry confirms."""
        confirmed = (
            self.verification is not None
            and self.verification.status is VerificationStatus.CONFIRMED
        )
        return not self.has_proof and not confirmed

    @property
    def interview_needed(self) -> bool:
        """No conclusive document and no conclusive verification: a consular interview."""
        if self.verification is not None and self.verification.interview_needed:
            return True
        return self.verification_needed and self.verification is not None

    @property
    def next_deadline(self) -> Deadline | None:
        running = [self.deadlines[name] for name in self.open_limits if name in self.deadlines]
        return min(running, key=lambda d: d.due, default=None)

    @property
    def unverified_parameters(self) -> tuple[str, ...]:
        return self.terms.unverified_parameters if self.terms else ()


def initial_state() -> CaseState:
    return CaseState()


def is_terminal(state: CaseState) -> bool:
    """A closed case accepts no command at all."""
    return state.status is Status.CLOSED
