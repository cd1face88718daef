"""The case workflow's side of federation (docs/federation.md): which message it takes from the
other node and in what order, and how its own queue moves. Pure functions over the contracts, so
the rules are tested without Temporal and the workflow only calls them.

Order per case: each node numbers its messages 1, 2, 3… without gaps (a message refused for
good gives its number to the next) and says with each the highest number of the other's it had
applied (`peer_seen`). A message is taken when its number is the next one, the receiver has
applied everything of its own the sender claims to have seen, and it does not cross a message of
the receiver's still on its way; one from further ahead waits (the ones before it come first),
one already passed is refused. When two cross, a consequence (an expiry) wins over a command,
and between commands the requesting state's wins: the other is refused, finally, and its officer
acts again on the case as it now is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from domain import decider
from domain.commands import BY_NAME, ExpireLimit, issued_by, personal_data_in_clear
from domain.errors import DomainError
from domain.federation import bound_side, counted_at, late, side_of, skewed
from domain.state import CaseState
from domain.values import CURRENT_RULESET, Side
from workflows.contracts import (
    Actor,
    CommandRequest,
    Delivered,
    Exchange,
    FederationInput,
    Outgoing,
    Refused,
)

KEPT_REFUSALS = 10


def snake(name: str) -> str:
    """A refusal's code from an error's class name (`ReplyDeadlinePassed`, for instance)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@dataclass(frozen=True)
class PeerRefusal:
    """Why a message from the other node is not taken: `code` goes into the signed error
    receipt; a `retryable` refusal is one the sender's delivery tries again later."""

    code: str
    detail: str
    retryable: bool = False
    http_status: int = 409


def node_actor(state: str) -> Actor:
    """Who a consequence the other node applied is recorded as: that node's clock."""
    return Actor(user_id=f"node:{state}", state=state, role="system")


def _dry_id() -> UUID:
    return UUID(int=0)


def peer_refusal(
    request: CommandRequest,
    case_state: CaseState,
    exchange: Exchange,
    federation: FederationInput | None,
    now: datetime,
    workflow_id: str,
) -> PeerRefusal | None:
    """Why the message `request` came in must be refused now, or None to take it."""
    peer = request.peer
    if peer is None:
        raise ValueError("not a message from the other node")
    if federation is None:
        return PeerRefusal("not_federated", "the case is not shared with another node")
    if peer.sender != federation.peer_state or request.actor.state != peer.sender:
        return PeerRefusal("wrong_sender", f"the case is shared with {federation.peer_state}")
    if peer.seq <= exchange.in_seq:
        return PeerRefusal(
            "out_of_order", f"message {peer.seq} comes after {exchange.in_seq} was taken"
        )
    if peer.seq > exchange.in_seq + 1:
        return PeerRefusal(
            "out_of_order",
            f"message {peer.seq} before {exchange.in_seq + 1}",
            retryable=True,
            http_status=503,
        )
    tolerance = timedelta(seconds=federation.clock_skew_seconds)
    if skewed(peer.sent_at, now, tolerance):
        return PeerRefusal("clock_skew", "sent later than the receiving clock allows")
    if peer.peer_seen > exchange.out_applied:
        return PeerRefusal(
            "awaiting_receipt",
            f"the sender saw message {peer.peer_seen} of ours, applied here only up to "
            f"{exchange.out_applied}",
            retryable=True,
            http_status=503,
        )
    state = case_state
    if peer.opening is not None:
        refusal = _opening_refusal(request, state, federation, now, tolerance, workflow_id)
        if refusal is not None:
            return refusal
        opening = peer.opening.model_copy(update={"ruleset": CURRENT_RULESET})
        state = decider.execute(opening, state, _dry_id).state
    elif not state.opened:
        return PeerRefusal("unknown_case", "the case has not been submitted to this node")
    crossing = [m for m in exchange.outbox if m.seq > peer.peer_seen]
    own = side_of(state, federation.node_state)
    wins = any(m.kind == "consequence" for m in crossing) or own is Side.REQUESTING
    if crossing and peer.kind == "command" and wins:
        return PeerRefusal(
            "crossed", f"crossed message {crossing[0].seq} of {federation.node_state}"
        )
    if peer.kind == "consequence":
        return _consequence_refusal(request, state, own, now, tolerance)
    sender = Side.REQUESTED if own is Side.REQUESTING else Side.REQUESTING
    at = counted_at(request.command, sender, state, peer.sent_at, now)
    command = request.command.model_copy(update={"at": at})
    if unsealed := personal_data_in_clear(command):
        return PeerRefusal("not_sealed", f"unsealed: {', '.join(unsealed)}", http_status=500)
    if BY_NAME[command.command].side is Side.SYSTEM:
        return PeerRefusal("not_a_command", f"{command.command} is the case's clock's")
    if BY_NAME[command.command].local:
        return PeerRefusal("not_a_command", f"{command.command} stays on its own node")
    if issued_by(command) is not sender:
        return PeerRefusal("wrong_side", f"{command.command} is not the {sender.value} state's")
    if limit := late(command, sender, state, peer.sent_at, now):
        return PeerRefusal("late", f"sent after the {limit} limit ended")
    try:
        decider.validate(command, state)
    except DomainError as error:
        return PeerRefusal(snake(type(error).__name__), str(error))
    return None


def _opening_refusal(
    request: CommandRequest,
    state: CaseState,
    federation: FederationInput,
    now: datetime,
    tolerance: timedelta,
    workflow_id: str,
) -> PeerRefusal | None:
    """A case's opening is taken only for a case between the sender (requesting) and this
    node (requested), numbered by the sender, and not dated in this node's future. (The API
    checked its terms against this node's own agreement data.)"""
    opening = request.peer.opening if request.peer else None
    if opening is None:
        return None
    if state.opened:
        return PeerRefusal("case_exists", "the case is open here already")
    terms = opening.terms
    if opening.case_id != workflow_id or not opening.case_id.startswith(
        f"{terms.requesting}-{terms.requested}-"
    ):
        return PeerRefusal("wrong_case", "the opening names another case")
    if (terms.requesting, terms.requested) != (federation.peer_state, federation.node_state):
        return PeerRefusal("wrong_case", f"not a case of {federation.peer_state} to this node")
    if skewed(opening.at, now, tolerance):
        return PeerRefusal("clock_skew", "opened later than the receiving clock allows")
    if opening.ruleset != CURRENT_RULESET:
        return PeerRefusal(
            "unsupported_ruleset",
            f"opened under ruleset {opening.ruleset}; this node runs {CURRENT_RULESET}",
        )
    if request.command.command != "submit":
        return PeerRefusal("wrong_opening", "an opening comes with the submission only")
    if request.actor.state != opening.terms.requesting:
        return PeerRefusal("wrong_sender", "only the requesting state submits")
    if unsealed := personal_data_in_clear(opening):
        return PeerRefusal("not_sealed", f"unsealed: {', '.join(unsealed)}", http_status=500)
    try:
        decider.validate(opening, state)
    except DomainError as error:
        return PeerRefusal(snake(type(error).__name__), str(error))
    return None


def _consequence_refusal(
    request: CommandRequest, state: CaseState, own: Side, now: datetime, tolerance: timedelta
) -> PeerRefusal | None:
    """An expiry the other node applied: only of a limit this node is bound by (it leaves that
    expiry to the waiting node), running here, and not before its deadline."""
    command = request.command
    if not isinstance(command, ExpireLimit):
        return PeerRefusal("not_a_consequence", f"{command.command} is not a consequence")
    if bound_side(command.limit) is not own:
        return PeerRefusal("not_yours", f"this node applies the {command.limit} limit itself")
    deadline = state.deadlines.get(command.limit)
    if command.limit not in state.open_limits or deadline is None:
        return PeerRefusal("no_such_limit", f"the {command.limit} limit is not running here")
    if command.at < deadline.due + tolerance or command.at > now + tolerance:
        return PeerRefusal(
            "early", f"the {command.limit} limit ends at {deadline.due}, plus the tolerance"
        )
    return None


def receiving_instant(
    request: CommandRequest, state: CaseState, federation: FederationInput, now: datetime
) -> datetime:
    """The instant a taken command is recorded at (`domain.federation.counted_at`)."""
    assert request.peer is not None
    own = side_of(state, federation.node_state)
    sender = Side.REQUESTED if own is Side.REQUESTING else Side.REQUESTING
    return counted_at(request.command, sender, state, request.peer.sent_at, now)


def queued(exchange: Exchange, message: Outgoing) -> Exchange:
    """`exchange` with `message` at the end of its queue (its number taken); a consequence is
    applied here already, before it leaves."""
    applied = message.seq if message.kind == "consequence" else exchange.out_applied
    return exchange.model_copy(
        update={
            "out_seq": message.seq,
            "out_applied": max(exchange.out_applied, applied),
            "outbox": (*exchange.outbox, message),
        }
    )


def settled(exchange: Exchange, message: Outgoing, delivered: Delivered) -> Exchange:
    """`exchange` once `message`'s receipt is back: off the queue, applied here (a consequence
    was already) or kept among the refusals."""
    outbox = tuple(m for m in exchange.outbox if m.message_id != message.message_id)
    if delivered.outcome == "applied":
        applied = max(exchange.out_applied, message.seq)
        return exchange.model_copy(update={"outbox": outbox, "out_applied": applied})
    refusal = Refused(
        message_id=message.message_id,
        seq=message.seq,
        command=message.command.command,
        code=delivered.code or "refused",
        detail=delivered.detail or "",
    )
    kept = (*exchange.refused, refusal)[-KEPT_REFUSALS:]
    # its number goes to the next: those queued behind it were not built yet
    later = tuple(
        m.model_copy(update={"seq": m.seq - 1}) if m.seq > message.seq else m for m in outbox
    )
    shift = 1 if exchange.out_applied > message.seq else 0
    return exchange.model_copy(
        update={
            "outbox": later,
            "refused": kept,
            "out_seq": exchange.out_seq - 1,
            "out_applied": exchange.out_applied - shift,
        }
    )
