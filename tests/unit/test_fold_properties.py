"""Properties of generated case histories: folding events reproduces state, events round-trip
through their stored form, and lifecycle invariants hold at every version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from factories import T0, open_case, passport
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from domain.commands import (
    AcceptApplication,
    AddEvidence,
    ClaimReadmissionInError,
    CloseCase,
    Command,
    CompleteTransfer,
    ConfirmReceipt,
    ExpireLimit,
    ExtendReplyLimit,
    ExtendTransferLimit,
    RecordEscalation,
    RecordVerification,
    RefuseApplication,
    ScheduleTransfer,
    SubmitApplication,
    WithdrawCase,
)
from domain.decider import decide, evolve, fold, with_deadlines
from domain.errors import DomainError
from domain.events import Event, dump_event, parse_event
from domain.state import CaseState, initial_state
from domain.values import EscalationLevel, Status, VerificationOutcome, VerificationStatus
from readmit.db.canonical import check_json

Builder = Callable[[datetime, CaseState], Command]

BUILDERS: list[Builder] = [
    lambda t, s: SubmitApplication(at=t),
    lambda t, s: ConfirmReceipt(at=t),
    lambda t, s: RecordVerification(
        at=t, outcome=VerificationOutcome(status=VerificationStatus.CONFIRMED, score=0.9)
    ),
    lambda t, s: ExtendReplyLimit(at=t, reasons=("registry offline",)),
    lambda t, s: AcceptApplication(at=t),
    lambda t, s: RefuseApplication(at=t, reasons=("not a national",)),
    lambda t, s: ScheduleTransfer(
        at=t, on=t + timedelta(days=3), bcp="Medyka-Shehyni", mode="land"
    ),
    lambda t, s: CompleteTransfer(at=t),
    lambda t, s: ExtendTransferLimit(at=t, days=10, reasons=("no escort",)),
    lambda t, s: ClaimReadmissionInError(at=t, reasons=("wrong person",)),
    lambda t, s: WithdrawCase(at=t, reasons=("left",)),
    lambda t, s: CloseCase(at=t),
    lambda t, s: AddEvidence(at=t, items=(passport(),)),
    lambda t, s: ExpireLimit(at=t, limit=_next_limit(s)),
    lambda t, s: RecordEscalation(at=t, limit=_next_limit(s), level=EscalationLevel.REMINDER_HALF),
]


NATURAL_NEXT = {
    Status.DRAFT: 0,
    Status.SUBMITTED: 1,
    Status.RECEIVED: 4,
    Status.ACCEPTED: 6,
    Status.DEEMED_ACCEPTED: 6,
    Status.TRANSFER_SCHEDULED: 7,
}


def _natural(t: datetime, s: CaseState) -> Command:
    """The command that moves the case forward: keeps generated histories deep."""
    return BUILDERS[NATURAL_NEXT.get(s.status, 11)](t, s)


def _natural_refusal(t: datetime, s: CaseState) -> Command:
    return BUILDERS[5](t, s) if s.status is Status.RECEIVED else _natural(t, s)


BUILDERS.extend([_natural, _natural, _natural_refusal])


def _next_limit(state: CaseState) -> str:
    deadline = state.next_deadline
    return deadline.limit if deadline else "reply"


steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=len(BUILDERS) - 1),
        st.integers(min_value=0, max_value=40 * 24),  # hours until the command
    ),
    max_size=25,
)


def generate(plan: list[tuple[int, int]]) -> tuple[CaseState, list[Event]]:
    state = initial_state()
    events: list[Event] = []
    now = T0
    for command in [open_case()]:
        new = decide(with_deadlines(command, state), state)
        events += new
        state = fold(new, state)
    for index, hours in plan:
        now += timedelta(hours=hours)
        try:
            command = BUILDERS[index](now, state)
            new = decide(with_deadlines(command, state), state)
        except DomainError:
            continue
        events += new
        state = fold(new, state)
    return state, events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_fold_reproduces_state_at_every_version(plan: list[tuple[int, int]]) -> None:
    state, events = generate(plan)
    assert fold(events) == state
    assert state.version == len(events)
    current = initial_state()
    for k, event in enumerate(events, start=1):
        current = evolve(current, event)
        assert current == fold(events[:k])
        assert current.version == k
        assert set(current.open_limits) <= set(current.deadlines)
        assert len(set(current.open_limits)) == len(current.open_limits)
        if current.status in (Status.CLOSED, Status.WITHDRAWN):
            assert current.open_limits == ()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_events_round_trip_through_their_stored_form(plan: list[tuple[int, int]]) -> None:
    state, events = generate(plan)
    stored = [dump_event(e) for e in events]
    for raw in stored:
        check_json(raw)  # what the hash chain covers must be canonical JSON (no floats)
    assert [parse_event(raw) for raw in stored] == events
    assert fold(parse_event(raw) for raw in stored) == state


def test_generator_reaches_every_outcome() -> None:
    """Guards the generator itself: it must reach deep states for the properties to mean much."""
    seen: set[Status] = set()
    examples = st.lists(st.tuples(st.integers(0, len(BUILDERS) - 1), st.integers(0, 40 * 24)))

    @seed(20270104)
    @settings(max_examples=400, deadline=None, database=None)
    @given(examples)
    def collect(plan: list[tuple[int, int]]) -> None:
        _, events = generate(plan)
        seen.update(fold(events[:k]).status for k in range(1, len(events) + 1))

    collect()
    assert {Status.DEEMED_ACCEPTED, Status.TRANSFERRED, Status.REFUSED, Status.CLOSED} <= seen
