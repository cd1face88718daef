"""The rules of a case shared by two nodes (domain/federation.py, workflows/exchange.py): which
commands cross, which node applies each expiry and when, the reply racing its deadline, and the
order of messages, decided without Temporal."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from factories import CASE_ID, T0, open_case, passport, run

from domain.alarms import next_alarm
from domain.commands import (
    AcceptApplication,
    AddEvidence,
    ClaimCase,
    Command,
    ExpireLimit,
    OpenCase,
    RecordEscalation,
    SubmitApplication,
)
from domain.federation import (
    applies_expiry,
    crosses,
    expiry_grace,
    held_limits,
    late,
    opening_of,
    skewed,
)
from domain.state import CaseState
from domain.values import EscalationLevel, EvidenceItem, Sealed, Side
from workflows.contracts import (
    Actor,
    CommandRequest,
    Delivered,
    Exchange,
    FederationInput,
    Outgoing,
    PeerMessage,
)
from workflows.exchange import node_actor, peer_refusal, queued, receiving_instant, settled

SEALED = Sealed(sealed="v1.AAAAAAAAAAAAAAAAAAAAAAAA")
SEALED_PASSPORT = EvidenceItem(kind="passport", sealed=SEALED)
TOLERANCE = timedelta(minutes=2)
PL_OFFICER = Actor(user_id="anna.pl", state="PL", role="officer")
UA_OFFICER = Actor(user_id="olena.ua", state="UA", role="officer")
ON_PL = FederationInput(node_state="PL", peer_state="UA", clock_skew_seconds=120)
ON_UA = FederationInput(node_state="UA", peer_state="PL", clock_skew_seconds=120)


def sealed_opening() -> OpenCase:
    return open_case(person=SEALED, evidence=(SEALED_PASSPORT,))


def draft() -> CaseState:
    return run([sealed_opening()])[0]


def received() -> CaseState:
    """The case as both nodes hold it once the submission was receipted at T0 + 1 h."""
    return run([SubmitApplication(at=T0 + timedelta(hours=1))], draft())[0]


def reply_due(state: CaseState) -> object:
    return state.deadlines["reply"].due


# --- what crosses, who keeps which clock -------------------------------------------------------


def test_drafts_stay_home_and_everything_from_the_submission_on_crosses() -> None:
    state = draft()
    assert not crosses(AddEvidence(at=T0, items=(passport(),)), state)
    assert crosses(SubmitApplication(at=T0), state)
    assert crosses(AcceptApplication(at=T0), received())
    assert not crosses(ExpireLimit(at=T0, limit="reply"), received())
    escalation = RecordEscalation(at=T0, limit="reply", level=EscalationLevel.REMINDER_HALF)
    assert not crosses(escalation, received())


def test_the_waiting_node_applies_an_expiry_and_the_bound_node_never_does() -> None:
    state = received()
    assert applies_expiry("reply", Side.REQUESTING, state)  # PL waits for UA's reply
    assert not applies_expiry("reply", Side.REQUESTED, state)
    assert applies_expiry("transfer", Side.REQUESTED, state)  # UA waits for PL's transfer
    assert held_limits(state, Side.REQUESTED) == {"reply"}
    assert held_limits(state, Side.REQUESTING) == frozenset()
    # before the submission the case is the requesting node's alone
    assert applies_expiry("submission", Side.REQUESTING, draft())
    assert expiry_grace(draft(), TOLERANCE) == timedelta(0)
    assert expiry_grace(state, TOLERANCE) == TOLERANCE


def test_the_bound_node_has_no_expiry_alarm_and_the_waiting_node_one_after_the_grace() -> None:
    state = received()
    due = state.deadlines["reply"].due
    after = due + timedelta(days=1)
    on_pl = next_alarm(state, {}, after, grace=TOLERANCE)
    assert on_pl is not None and on_pl.limit == "reply" and on_pl.level is None
    assert on_pl.at >= due + TOLERANCE
    on_ua = next_alarm(state, {}, after, held=held_limits(state, Side.REQUESTED))
    assert on_ua is None or on_ua.limit != "reply"
    assert next_alarm(state, {}, after) is not None  # a single installation expires it as ever


def test_a_reply_counts_by_its_signed_sending_instant_within_the_grace() -> None:
    state = received()
    due = state.deadlines["reply"].due
    accept = AcceptApplication(at=due)
    before, after = due - timedelta(seconds=1), due + timedelta(seconds=1)
    # received before the deadline: counts, whatever its sending instant
    assert late(accept, Side.REQUESTED, state, before, before) is None
    # sent one second before, received one second after: counts
    assert late(accept, Side.REQUESTED, state, before, after) is None
    # sent after the deadline: late
    assert late(accept, Side.REQUESTED, state, after, after + timedelta(seconds=5)) == "reply"
    # a command of the other side is not held to the requested state's limit
    assert late(SubmitApplication(at=after), Side.REQUESTING, state, after, after) is None


def test_a_sending_instant_beyond_the_tolerance_is_skew() -> None:
    assert skewed(T0 + TOLERANCE + timedelta(seconds=1), T0, TOLERANCE)
    assert not skewed(T0 + TOLERANCE, T0, TOLERANCE)
    assert not skewed(T0 - timedelta(days=3), T0, TOLERANCE)  # delayed is fine


def test_the_opening_is_rebuilt_from_the_requesting_state() -> None:
    state = draft()
    opening = opening_of(state)
    assert opening.case_id == state.case_id and opening.person == SEALED
    assert opening.evidence == tuple(g.item for g in state.evidence)
    assert run([opening])[0].model_copy(update={"updated_at": None}) == state.model_copy(
        update={"updated_at": None}
    )


# --- the order of messages ----------------------------------------------------------------------


def message(
    command: Command,
    *,
    actor: Actor = UA_OFFICER,
    seq: int = 1,
    peer_seen: int = 0,
    sent_at: object = None,
    kind: str = "command",
    opening: OpenCase | None = None,
) -> CommandRequest:
    return CommandRequest(
        command=command,
        actor=actor,
        peer=PeerMessage(
            message_id=uuid4(),
            sender=actor.state,
            seq=seq,
            peer_seen=peer_seen,
            sent_at=sent_at or command.at,
            kind=kind,
            opening=opening,
        ),
    )


def outgoing(seq: int, kind: str = "command", command: Command | None = None) -> Outgoing:
    return Outgoing(
        message_id=uuid4(),
        seq=seq,
        peer_seen=0,
        kind=kind,
        command=command or SubmitApplication(at=T0),
        actor=PL_OFFICER,
        sent_at=T0,
    )


def refusal(
    request: CommandRequest, state: CaseState, exchange: Exchange, on: FederationInput, now: object
) -> str | None:
    found = peer_refusal(request, state, exchange, on, now, CASE_ID)  # type: ignore[arg-type]
    return None if found is None else found.code


def test_a_reply_in_order_is_taken() -> None:
    state, now = received(), T0 + timedelta(days=2)
    assert refusal(message(AcceptApplication(at=now)), state, Exchange(), ON_PL, now) is None


def test_a_peers_assignment_is_refused_it_stays_on_its_own_node() -> None:
    """Assignment never crosses (`CommandKind.local`): a message carrying one is not a command
    this node takes, whichever side it names."""
    state, now = received(), T0 + timedelta(days=2)
    for side in (Side.REQUESTED, Side.REQUESTING):
        claim = ClaimCase(at=now, side=side, by="olena.ua")
        assert refusal(message(claim), state, Exchange(), ON_PL, now) == "not_a_command"


@pytest.mark.parametrize(
    ("exchange", "seq", "peer_seen", "code"),
    [
        (Exchange(in_seq=3, out_seq=2, out_applied=2), 3, 2, "out_of_order"),
        (Exchange(in_seq=3, out_seq=2, out_applied=2), 2, 2, "out_of_order"),
        (Exchange(in_seq=0, out_seq=2, out_applied=1), 1, 2, "awaiting_receipt"),
        (Exchange(in_seq=0, out_seq=1, out_applied=1), 1, 1, None),
        (Exchange(in_seq=1, out_seq=1, out_applied=1), 3, 1, "out_of_order"),  # 2 first
    ],
)
def test_order_and_duplicates(
    exchange: Exchange, seq: int, peer_seen: int, code: str | None
) -> None:
    state, now = received(), T0 + timedelta(days=2)
    request = message(AcceptApplication(at=now), seq=seq, peer_seen=peer_seen)
    assert refusal(request, state, exchange, ON_PL, now) == code


def test_awaiting_a_receipt_is_retryable_and_the_others_final() -> None:
    state, now = received(), T0 + timedelta(days=2)
    found = peer_refusal(
        message(AcceptApplication(at=now), peer_seen=2),
        state,
        Exchange(out_seq=2, out_applied=1),
        ON_PL,
        now,
        CASE_ID,
    )
    assert found is not None and found.retryable
    found = peer_refusal(
        message(AcceptApplication(at=now), seq=1),
        state,
        Exchange(in_seq=1),
        ON_PL,
        now,
        CASE_ID,
    )
    assert found is not None and not found.retryable


def test_crossing_commands_the_requesting_state_wins() -> None:
    state, now = received(), T0 + timedelta(days=2)
    pl_in_flight = queued(
        Exchange(), outgoing(1, command=AddEvidence(at=now, items=(SEALED_PASSPORT,)))
    )
    # on PL's node: UA's reply crossed PL's message: refused
    assert refusal(message(AcceptApplication(at=now)), state, pl_in_flight, ON_PL, now) == "crossed"
    # on UA's node: PL's message crossed UA's reply: taken (PL will refuse UA's)
    ua_in_flight = queued(Exchange(), outgoing(1, command=AcceptApplication(at=now)))
    add = AddEvidence(at=now, items=(SEALED_PASSPORT,))
    assert refusal(message(add, actor=PL_OFFICER), state, ua_in_flight, ON_UA, now) is None


def test_a_consequence_wins_over_a_crossing_command() -> None:
    state = received()
    due = state.deadlines["reply"].due
    now = due + TOLERANCE + timedelta(seconds=5)
    # PL applied the expiry and sent it; UA's late reply crossed it: refused on PL's node
    pl_sent = queued(Exchange(), outgoing(1, "consequence", ExpireLimit(at=now, limit="reply")))
    late_reply = message(AcceptApplication(at=now), sent_at=due - timedelta(seconds=1))
    assert refusal(late_reply, state, pl_sent, ON_PL, now) == "crossed"
    # UA's node takes PL's consequence although its reply is on its way
    ua_sent = queued(Exchange(), outgoing(1, command=AcceptApplication(at=due)))
    expiry = message(ExpireLimit(at=now, limit="reply"), actor=node_actor("PL"), kind="consequence")
    assert refusal(expiry, state, ua_sent, ON_UA, now) is None


def test_a_consequence_only_of_a_limit_the_receiver_is_bound_by_and_not_early() -> None:
    state = received()
    due = state.deadlines["reply"].due
    now = due + timedelta(minutes=3)
    early = message(
        ExpireLimit(at=due - timedelta(hours=1), limit="reply"),
        actor=node_actor("PL"),
        kind="consequence",
    )
    assert refusal(early, state, Exchange(), ON_UA, now) == "early"
    not_yours = message(
        ExpireLimit(at=now, limit="reply"), actor=node_actor("UA"), kind="consequence"
    )
    assert refusal(not_yours, state, Exchange(), ON_PL, now) == "not_yours"
    ahead = message(
        ExpireLimit(at=now + timedelta(hours=1), limit="reply"),
        sent_at=now,
        actor=node_actor("PL"),
        kind="consequence",
    )
    assert refusal(ahead, state, Exchange(), ON_UA, now) == "early"


def test_the_reply_near_its_deadline() -> None:
    state = received()
    due = state.deadlines["reply"].due
    just_after = due + timedelta(seconds=30)
    sent_before = message(AcceptApplication(at=just_after), sent_at=due - timedelta(seconds=10))
    assert refusal(sent_before, state, Exchange(), ON_PL, just_after) is None
    # ... and is recorded at its sending instant, on both nodes
    assert receiving_instant(sent_before, state, ON_PL, just_after) == due - timedelta(seconds=10)
    in_time = message(AcceptApplication(at=due), sent_at=due - timedelta(hours=1))
    assert receiving_instant(in_time, state, ON_PL, due - timedelta(minutes=1)) == due - timedelta(
        minutes=1
    )
    sent_after = message(AcceptApplication(at=just_after), sent_at=due + timedelta(seconds=10))
    assert refusal(sent_after, state, Exchange(), ON_PL, just_after) == "late"
    skew = message(AcceptApplication(at=due), sent_at=due + timedelta(minutes=10))
    assert refusal(skew, state, Exchange(), ON_PL, due) == "clock_skew"


def test_who_may_send_what() -> None:
    state, now = received(), T0 + timedelta(days=2)
    assert (
        refusal(message(AcceptApplication(at=now), actor=PL_OFFICER), state, Exchange(), ON_UA, now)
        == "wrong_side"
    )
    stranger = Actor(user_id="x", state="DE", role="officer")
    assert (
        refusal(message(AcceptApplication(at=now), actor=stranger), state, Exchange(), ON_PL, now)
        == "wrong_sender"
    )
    assert (
        refusal(
            message(AcceptApplication(at=now)),
            state,
            Exchange(),
            None,  # type: ignore[arg-type]
            now,
        )
        == "not_federated"
    )


def test_the_submission_brings_the_opening() -> None:
    now = T0 + timedelta(hours=1)
    empty = CaseState()
    submit = message(SubmitApplication(at=now), actor=PL_OFFICER, opening=sealed_opening())
    assert refusal(submit, empty, Exchange(), ON_UA, now) is None
    assert (
        refusal(message(SubmitApplication(at=now), actor=PL_OFFICER), empty, Exchange(), ON_UA, now)
        == "unknown_case"
    )
    assert refusal(submit, draft(), Exchange(), ON_UA, now) == "case_exists"
    clear = message(SubmitApplication(at=now), actor=PL_OFFICER, opening=open_case())
    assert refusal(clear, empty, Exchange(), ON_UA, now) == "not_sealed"
    old = message(
        SubmitApplication(at=now),
        actor=PL_OFFICER,
        opening=sealed_opening().model_copy(update={"ruleset": 1}),
    )
    assert refusal(old, empty, Exchange(), ON_UA, now) == "unsupported_ruleset"


def test_the_queue_moves_with_receipts() -> None:
    first, second = outgoing(1), outgoing(2, "consequence", ExpireLimit(at=T0, limit="transfer"))
    exchange = queued(queued(Exchange(), first), second)
    assert exchange.out_seq == 2 and exchange.out_applied == 2  # a consequence applies at once
    applied = Delivered(
        message_id=first.message_id, outcome="applied", received_at=T0, event_ids=(UUID(int=1),)
    )
    after = settled(exchange, first, applied)
    assert [m.seq for m in after.outbox] == [2] and after.out_applied == 2
    refused = Delivered(
        message_id=second.message_id, outcome="refused", received_at=T0, code="crossed", detail="x"
    )
    done = settled(after, second, refused)
    assert done.outbox == () and done.refused[-1].code == "crossed"
    # a refused message gives its number to the next, not yet built
    third, fourth = outgoing(3), outgoing(4, "consequence", ExpireLimit(at=T0, limit="transfer"))
    queue = queued(queued(Exchange(out_seq=2, out_applied=2), third), fourth)
    gone = Delivered(message_id=third.message_id, outcome="refused", received_at=T0, code="late")
    moved = settled(queue, third, gone)
    assert [m.seq for m in moved.outbox] == [3] and moved.out_seq == 3 and moved.out_applied == 3
