"""Notices go to the assignee first (`domain.notices`): a notice for a side's officers names the
side's assignee when it has one, and nobody (the whole team) while it has none; reminders follow
the acting side's assignee; escalations and other supervisors' notices never name one."""

from __future__ import annotations

import uuid
from datetime import timedelta

from factories import T0, open_case, run

from domain.commands import ClaimCase, ReleaseCase, SubmitApplication
from domain.events import DeadlineEscalated, Event, ReadmissionInErrorClaimed
from domain.notices import notices_for
from domain.state import CaseState
from domain.values import EscalationLevel, Side

LATER = T0 + timedelta(hours=1)


def told(state: CaseState, *events: Event) -> dict[tuple[str, str, str], str | None]:
    """(state, role, kind) -> assignee of each notice the events call for in `state`."""
    assert state.case_id is not None
    found = notices_for(state.case_id, [(uuid.uuid4(), e) for e in events], state)
    return {(n.state, n.role, n.kind): n.assignee for n in found}


def test_a_sides_assignee_hears_first_and_the_team_while_unassigned() -> None:
    claim = ClaimCase(at=LATER, side=Side.REQUESTED, by="olena.ua")
    mine = ClaimCase(at=LATER, side=Side.REQUESTING, by="anna.pl")
    assigned, recorded = run([open_case(), mine, SubmitApplication(at=LATER), claim])
    submitted = next(e for e in recorded if e.type == "ApplicationSubmitted")
    due = T0 + timedelta(days=30)
    half = DeadlineEscalated(at=LATER, limit="reply", level=EscalationLevel.REMINDER_HALF, due=due)
    near = DeadlineEscalated(
        at=LATER, limit="reply", level=EscalationLevel.ESCALATION_NEAR, due=due
    )
    assert told(assigned, submitted) == {("UA", "officer", "ApplicationSubmitted"): "olena.ua"}
    assert told(assigned, half, near) == {
        ("UA", "officer", "reminder_half"): "olena.ua",  # the reply is UA's to give
        ("UA", "supervisor", "escalation_near"): None,  # escalations: the supervisors
    }
    claimed = ReadmissionInErrorClaimed(at=LATER, reasons=("not a national",))
    assert told(assigned, claimed) == {("PL", "supervisor", "ReadmissionInErrorClaimed"): None}

    released, _ = run([ReleaseCase(at=LATER, side=Side.REQUESTED, by="olena.ua")], assigned)
    assert told(released, submitted) == {("UA", "officer", "ApplicationSubmitted"): None}
