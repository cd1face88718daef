"""The rules of a case shared by two nodes, each state running its own Readmit (docs/federation.md).

Both nodes hold the case, run its workflow and compute the same deadlines from the same agreement
data. What one state's officer does reaches the other as a signed message; these rules say which
node decides what, so that the two copies never disagree:

- **Drafts stay home.** Until the application is submitted, the case exists on the requesting
  node only; from the submission on, every officer command crosses (`crosses`). The submission
  carries the case's opening, rebuilt from the state (`opening_of`).
- **Receipt first.** A crossing command takes effect on both nodes at the instant the receiving
  node recorded it (its signed receipt's `received_at`): the receiver decides it first, the sender
  applies it once the receipt is back, at that instant.
- **The waiting node keeps the clock.** The node of the state a limit binds (`ACTING_SIDE`)
  reminds and escalates its own officers but never applies the limit's expiry (`held_limits`);
  the other node, the one waiting, reminds no one of it (`quiet_limits`), applies its expiry
  once the deadline and the clock-skew tolerance have passed (`applies_expiry`,
  `expiry_grace`) and sends it to the bound node as a consequence.
- **A reply near its deadline.** A command of the bound side received after the deadline (but
  before the waiting node applied the expiry) counts if its signed sending instant is not after
  the deadline (`late`), and is then recorded at that instant on both nodes (`counted_at`); a
  sending instant ahead of the receiver's clock by more than the tolerance is refused outright
  (`skewed`), so a node's clock can win it at most the tolerance.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.alarms import ACTING_SIDE
from domain.commands import BY_NAME, AddAttachment, Command, OpenCase, SendCaseMessage, issued_by
from domain.state import CaseState
from domain.values import Side, Status

DEFAULT_CLOCK_SKEW = timedelta(minutes=2)


def side_of(state: CaseState, node_state: str) -> Side:
    """The side `node_state` is on in the case (a node holds only cases its state is party to)."""
    if state.terms is None:
        raise ValueError("the case has no terms yet")
    if node_state == state.terms.requesting:
        return Side.REQUESTING
    if node_state == state.terms.requested:
        return Side.REQUESTED
    raise ValueError(f"{node_state} is not a party to the case")


def submitted(state: CaseState) -> bool:
    """Whether the application has left the requesting node (the case then exists on both)."""
    return state.status is not Status.DRAFT


def crosses(command: Command, state: CaseState) -> bool:
    """Whether an officer's `command` must reach the other node: the submission and every
    command after it. The clock's own commands never cross this way (see `applies_expiry`),
    nor do a node's own (`CommandKind.local`: who works on the case there)."""
    kind = BY_NAME[command.command]
    if kind.side is Side.SYSTEM or kind.local or isinstance(command, OpenCase):
        return False
    return submitted(state) or command.command == "submit"


def bound_side(limit: str) -> Side:
    """The side whose officers must act before `limit` ends."""
    return ACTING_SIDE.get(limit, Side.REQUESTING)


def applies_expiry(limit: str, own: Side, state: CaseState) -> bool:
    """Whether the node on side `own` applies `limit`'s expiry: the waiting side's node, once
    the case has crossed; before the submission, the requesting node alone."""
    if not submitted(state):
        return own is Side.REQUESTING
    return bound_side(limit) is not own


def held_limits(state: CaseState, own: Side) -> frozenset[str]:
    """The open limits whose expiry this node leaves to the other (it is bound by them)."""
    return frozenset(name for name in state.open_limits if not applies_expiry(name, own, state))


def quiet_limits(state: CaseState, own: Side) -> frozenset[str]:
    """The open limits this node reminds and escalates no one of: those the other node's
    officers must meet, once the case has crossed (that node reminds them)."""
    if not submitted(state):
        return frozenset()
    return frozenset(name for name in state.open_limits if bound_side(name) is not own)


def expiry_grace(state: CaseState, tolerance: timedelta) -> timedelta:
    """How long after a deadline the waiting node applies its expiry: the clock-skew tolerance
    once the case has crossed (a reply sent in time may still be on its way), none before."""
    return tolerance if submitted(state) else timedelta(0)


def skewed(sent_at: datetime, now: datetime, tolerance: timedelta) -> bool:
    """Whether a message claims to have been sent further in the receiver's future than clocks
    may differ: it is refused, whatever it carries."""
    return sent_at > now + tolerance


# Commands of a side that are no reply: neither late nor back-dated (`late`, `counted_at`).
NOT_REPLIES = (SendCaseMessage, AddAttachment)


def late(
    command: Command, sender: Side, state: CaseState, sent_at: datetime, now: datetime
) -> str | None:
    """The limit a command of `sender`'s side misses, if it arrives after one of that side's
    running deadlines and was sent after it; None if it counts. (Received before the deadline, it
    counts whatever its sending instant; once the waiting node has applied the expiry the case
    itself refuses it.) A message between the states (`domain.messages`) or a file added to the
    case (`domain.attachments`) is no reply: never late.
    """
    if issued_by(command) is not sender or isinstance(command, NOT_REPLIES):
        return None
    for name in state.open_limits:
        deadline = state.deadlines.get(name)
        if deadline is None or name in state.overdue or bound_side(name) is not sender:
            continue
        if deadline.due < now and sent_at > deadline.due:
            return name
    return None


def counted_at(
    command: Command, sender: Side, state: CaseState, sent_at: datetime, now: datetime
) -> datetime:
    """The instant a command received `now` counts at: now, unless it arrives after a deadline
    of its side that it was sent before (see `late`): then its signed sending instant, so the
    reply given in time is recorded in time on both nodes. A message between the states or a
    file counts when received."""
    if issued_by(command) is not sender or isinstance(command, NOT_REPLIES):
        return now
    for name in state.open_limits:
        deadline = state.deadlines.get(name)
        if deadline is None or name in state.overdue or bound_side(name) is not sender:
            continue
        if deadline.due < now and sent_at <= deadline.due:
            return sent_at
    return now


def opening_of(state: CaseState) -> OpenCase:
    """The case's opening as the requested node must record it, rebuilt from the requesting
    node's state at submission: the same terms, category, procedure, person, evidence and
    instants (drafted evidence and corrections included), so both nodes start from one case."""
    if state.case_id is None or state.terms is None or state.category is None:
        raise ValueError("the case is not open")
    if state.person is None or state.opened_at is None:
        raise ValueError("the case has no person")
    return OpenCase(
        at=state.opened_at,
        case_id=state.case_id,
        terms=state.terms,
        category=state.category,
        procedure=state.procedure or OpenCase.model_fields["procedure"].default,
        person=state.person,
        evidence=tuple(graded.item for graded in state.evidence),
        knowledge_at=state.knowledge_at,
        apprehended_at=state.apprehended_at,
        apprehension_place=state.apprehension_place,
        kind=state.kind,
        transit=state.transit,
        ruleset=state.ruleset,
    )
