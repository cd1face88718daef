"""Escalations a supervisor acknowledges, and their repeats (`domain.escalations`), as decider
tables: what may be acknowledged and by which side, when the next repeat is due and when the
repeats stop, and that neither an acknowledgement nor a repeat ever crosses to the other node."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from factories import T0, open_case, run
from test_federation_rules import ON_PL, message, received, refusal

from domain.commands import (
    AcceptApplication,
    AcknowledgeEscalation,
    ExpireLimit,
    ExtendTransferLimit,
    RecordEscalation,
    RepeatEscalation,
    SubmitApplication,
)
from domain.decider import decide
from domain.errors import InvalidCommand, NothingToAcknowledge
from domain.escalations import acknowledgeable, next_repeat
from domain.events import EscalationAcknowledged, EscalationRepeated
from domain.federation import crosses
from domain.state import CaseState
from domain.values import EscalationLevel, Side
from workflows.contracts import Actor, Exchange

DAY = timedelta(days=1)
EVERY = timedelta(hours=24)
NEAR = EscalationLevel.ESCALATION_NEAR


def ack(side: Side, at: datetime, by: str = "boss") -> AcknowledgeEscalation:
    return AcknowledgeEscalation(at=at, side=side, by=by)


def transfer_passed() -> tuple[CaseState, datetime]:
    """Accepted, its transfer limit (escalate on expiry: it goes on running) passed: (state,
    the expiry's instant)."""
    state, _ = run([open_case()])
    state, _ = run([SubmitApplication(at=T0 + timedelta(hours=1))], state)
    state, _ = run([AcceptApplication(at=T0 + DAY)], state)
    expiry = state.deadlines["transfer"].due + timedelta(seconds=1)
    state, _ = run([ExpireLimit(at=expiry, limit="transfer")], state)
    return state, expiry


def test_only_a_sides_escalated_limits_are_acknowledged() -> None:
    state = received()
    at = state.deadlines["reply"].due - timedelta(hours=6)
    with pytest.raises(NothingToAcknowledge):
        decide(ack(Side.REQUESTED, at), state)
    reminded, _ = run(
        [RecordEscalation(at=at, limit="reply", level=EscalationLevel.REMINDER_HALF)], state
    )
    with pytest.raises(NothingToAcknowledge):  # a reminder to officers is no escalation
        decide(ack(Side.REQUESTED, at), reminded)
    escalated, _ = run([RecordEscalation(at=at, limit="reply", level=NEAR)], reminded)
    assert acknowledgeable(escalated, Side.REQUESTED) == ["reply"]
    with pytest.raises(NothingToAcknowledge):  # the reply is the requested side's to give
        decide(ack(Side.REQUESTING, at), escalated)
    events = decide(ack(Side.REQUESTED, at), escalated)
    due = escalated.deadlines["reply"].due
    assert events == [EscalationAcknowledged(at=at, side=Side.REQUESTED, limit="reply", due=due)]
    done, _ = run([ack(Side.REQUESTED, at)], escalated)
    assert acknowledgeable(done, Side.REQUESTED) == []
    assert done.updated_at == escalated.updated_at  # the case's last move stays where it was
    with pytest.raises(NothingToAcknowledge):
        decide(ack(Side.REQUESTED, at), done)


def test_repeats_every_period_until_acknowledged() -> None:
    state, expired = transfer_passed()
    assert state.overdue == ("transfer",) and "transfer" in state.open_limits
    first = next_repeat(state, EVERY)
    assert first is not None
    assert (first.at, first.limit, first.repeat) == (expired + EVERY, "transfer", 1)
    assert first.level is EscalationLevel.ESCALATION_PASSED
    assert next_repeat(state, timedelta(0)) is None  # repeats switched off
    assert next_repeat(state, EVERY, quiet=frozenset({"transfer"})) is None  # the other node's

    once, events = run([RepeatEscalation(at=first.at, limit="transfer", repeat=1)], state)
    due = state.deadlines["transfer"].due
    assert events == [EscalationRepeated(at=first.at, limit="transfer", due=due, repeat=1)]
    second = next_repeat(once, EVERY)
    assert second is not None and (second.at, second.repeat) == (first.at + EVERY, 2)
    with pytest.raises(InvalidCommand):  # each repeat once, in order
        decide(RepeatEscalation(at=second.at, limit="transfer", repeat=1), once)

    acknowledged, _ = run([ack(Side.REQUESTING, second.at)], once)
    assert next_repeat(acknowledged, EVERY) is None
    with pytest.raises(InvalidCommand):
        decide(RepeatEscalation(at=second.at, limit="transfer", repeat=2), acknowledged)


def test_a_rearmed_deadline_is_escalated_afresh() -> None:
    state, expired = transfer_passed()
    acknowledged, _ = run([ack(Side.REQUESTING, expired + DAY)], state)
    extended, _ = run(
        [ExtendTransferLimit(at=expired + DAY, days=10, reasons=("in hospital",))], acknowledged
    )
    new_due = extended.deadlines["transfer"].due
    assert new_due != state.deadlines["transfer"].due and extended.overdue == ()
    expiry = new_due + timedelta(seconds=1)
    passed_again, _ = run([ExpireLimit(at=expiry, limit="transfer")], extended)
    again = next_repeat(passed_again, EVERY)
    assert again is not None and (again.at, again.repeat) == (expiry + EVERY, 1)
    assert acknowledgeable(passed_again, Side.REQUESTING) == ["transfer"]


def test_acknowledgements_and_repeats_never_cross() -> None:
    state = received()
    now = T0 + 2 * DAY
    command = ack(Side.REQUESTED, now, by="taras.ua")
    assert not crosses(command, state)
    supervisor = Actor(user_id="taras.ua", state="UA", role="supervisor")
    request = message(command, actor=supervisor)
    assert refusal(request, state, Exchange(), ON_PL, now) == "not_a_command"
    repeat = RepeatEscalation(at=now, limit="reply", repeat=1)
    assert not crosses(repeat, state)
    assert refusal(message(repeat), state, Exchange(), ON_PL, now) == "not_a_command"
