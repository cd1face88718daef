"""Generated case histories: random command plans run through the real decider.

`generate(plan)` opens a case and applies each (builder, hours later) step, skipping commands
the decider refuses, so every history is one the engine could really have written.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from factories import T0, open_case, passport, person
from hypothesis import strategies as st

from domain.commands import (
    AcceptApplication,
    AcceptErrorClaim,
    AddEvidence,
    AmendPerson,
    ClaimReadmissionInError,
    CloseCase,
    Command,
    CompleteReturn,
    CompleteTransfer,
    ConfirmReceipt,
    DisputeErrorClaim,
    ExpireLimit,
    ExtendReplyLimit,
    ExtendTransferLimit,
    RecordEscalation,
    RecordVerification,
    RefuseApplication,
    ScheduleReturn,
    ScheduleTransfer,
    SubmitApplication,
    WithdrawCase,
)
from domain.decider import decide, fold
from domain.errors import DomainError
from domain.events import Event
from domain.state import CaseState, initial_state
from domain.values import EscalationLevel, Status, VerificationOutcome, VerificationStatus

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
    # readmission in error as a procedure (indices 15-18) and correcting the person (19)
    lambda t, s: AcceptErrorClaim(at=t),
    lambda t, s: DisputeErrorClaim(at=t, reasons=("ours after all",)),
    lambda t, s: ScheduleReturn(at=t, on=t + timedelta(days=2), bcp="Medyka-Shehyni", mode="land"),
    lambda t, s: CompleteReturn(at=t),
    lambda t, s: AmendPerson(at=t, person=person().model_copy(update={"birth_place": "Lviv"})),
]


NATURAL_NEXT = {
    Status.DRAFT: 0,
    Status.SUBMITTED: 1,
    Status.RECEIVED: 4,
    Status.ACCEPTED: 6,
    Status.DEEMED_ACCEPTED: 6,
    Status.TRANSFER_SCHEDULED: 7,
    Status.TRANSFERRED: 9,  # a claim of readmission in error: deep histories
    Status.ERROR_CLAIMED: 15,
    Status.ERROR_ACCEPTED: 17,
    Status.RETURN_SCHEDULED: 18,
}


def _natural(t: datetime, s: CaseState) -> Command:
    """The command that moves the case forward: keeps generated histories deep."""
    return BUILDERS[NATURAL_NEXT.get(s.status, 11)](t, s)


def _natural_refusal(t: datetime, s: CaseState) -> Command:
    if s.status is Status.ERROR_CLAIMED:
        return BUILDERS[16](t, s)  # the claim disputed
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


def generate(plan: list[tuple[int, int]], **opening: object) -> tuple[CaseState, list[Event]]:
    state = initial_state()
    events: list[Event] = []
    now = T0
    for opening_command in [open_case(**opening)]:
        new = decide(opening_command, state)
        events += new
        state = fold(new, state)
    for index, hours in plan:
        now += timedelta(hours=hours)
        try:
            command = BUILDERS[index](now, state)
            new = decide(command, state)
        except DomainError:
            continue
        events += new
        state = fold(new, state)
    return state, events


def random_plan(rng: random.Random, length: int = 25) -> list[tuple[int, int]]:
    """A seeded plan for generating many cases outside hypothesis (e.g. projection tests)."""
    return [(rng.randrange(len(BUILDERS)), rng.randrange(40 * 24)) for _ in range(length)]
