"""No notice about a draft is addressed to its requested state: whatever a draft goes through
(evidence, reminders and escalations of its submission limit, lapsing, withdrawal, closing),
the notices it causes go to the requesting state, and the first one the requested state gets
is the submission's. (The inbox also hides any notice about a case its addressee may not know:
tests/api/test_draft_disclosure.py.)"""

from __future__ import annotations

import uuid
from datetime import timedelta

from factories import T0, open_case, passport, run

from domain.commands import AddEvidence, CloseCase, SubmitApplication, WithdrawCase
from domain.decider import evolve
from domain.events import DeadlineEscalated, Event, LimitLapsed
from domain.notices import Notice, notices_for
from domain.state import CaseState
from domain.values import EscalationLevel

LATER = T0 + timedelta(hours=1)


def notices_of(state: CaseState, events: list[Event]) -> list[Notice]:
    """The notices each event calls for, given the state just after it (as the commit does)."""
    found = []
    for event in events:
        state = evolve(state, event)
        assert state.case_id is not None
        found += notices_for(state.case_id, [(uuid.uuid4(), event)], state)
    return found


def escalations(limit: str) -> list[Event]:
    due = T0 + timedelta(days=30)
    return [DeadlineEscalated(at=LATER, limit=limit, level=lv, due=due) for lv in EscalationLevel]


def test_a_draft_tells_the_requested_state_nothing() -> None:
    start = run([])[0]
    opened, history = run([open_case(), AddEvidence(at=LATER, items=(passport(),))])
    withdraw = WithdrawCase(at=LATER, reasons=("not needed",))
    _, withdrawn = run([withdraw, CloseCase(at=LATER)], opened)
    reminded = [*escalations("submission"), *escalations("accelerated_submission")]
    lapsed = [*reminded, LimitLapsed(at=LATER, limit="submission")]

    assert notices_of(start, history + withdrawn) == []  # nobody is told of a withdrawn draft
    told = notices_of(start, history + lapsed)
    assert len(told) == 2 * len(EscalationLevel)  # the reminders and escalations: PL's
    assert {n.state for n in told} == {"PL"}, told


def test_the_submission_is_the_first_word_to_the_requested_state() -> None:
    start = run([])[0]
    opened, history = run([open_case(), AddEvidence(at=LATER, items=(passport(),))])
    _, submission = run([SubmitApplication(at=LATER)], opened)
    assert all(n.state == "PL" for n in notices_of(start, history))
    told = notices_of(opened, submission)
    assert "UA" in {n.state for n in told}, told
