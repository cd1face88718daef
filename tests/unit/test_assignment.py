"""Assignment (domain.assignment): each side of a case has an assignee. Claims, releases and
assignments as decider tables; who may issue them (`may_not_act`); and that they stay on their
node (`crosses`), are never a move the case waits for and call for no notice."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from factories import T0, open_case, run

from domain.actions import expected_actions
from domain.assignment import decide_assignment
from domain.commands import (
    AcceptApplication,
    AssignCase,
    ClaimCase,
    CloseCase,
    Command,
    ReleaseCase,
    SubmitApplication,
    WithdrawCase,
)
from domain.decider import decide, execute, fold, validate
from domain.errors import (
    AlreadyAssigned,
    AlreadyRecorded,
    CaseClosedError,
    DomainError,
    InvalidCommand,
    NotAssigned,
    WrongStatus,
)
from domain.events import CaseAssigned, dump_event, parse_event
from domain.federation import crosses
from domain.state import CaseState
from domain.values import Side, Status
from workflows.contracts import Actor
from workflows.readmission_case import may_not_act

AT = T0 + timedelta(hours=1)
REQUESTING, REQUESTED = Side.REQUESTING, Side.REQUESTED


def claim(by: str, side: Side = REQUESTING, at: object = AT) -> ClaimCase:
    return ClaimCase(at=at, side=side, by=by)


def release(by: str, side: Side = REQUESTING) -> ReleaseCase:
    return ReleaseCase(at=AT, side=side, by=by)


def assign(officer: str, side: Side = REQUESTING) -> AssignCase:
    return AssignCase(at=AT, side=side, officer=officer)


def draft() -> CaseState:
    return run([open_case()])[0]


def submitted() -> CaseState:
    return run([open_case(), SubmitApplication(at=T0 + timedelta(minutes=5))])[0]


def with_(commands: list[Command], state: CaseState | None = None) -> CaseState:
    return run(commands, state or submitted())[0]


def refuses(command: Command, state: CaseState, error: type[DomainError]) -> str:
    with pytest.raises(error) as info:
        decide(command, state)
    with pytest.raises(error):
        validate(command, state)
    return info.value.message


# --- the decider ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "command", "after"),
    [
        ([], claim("officer.pl"), {"requesting": "officer.pl"}),
        ([], claim("officer.ua", REQUESTED), {"requested": "officer.ua"}),
        ([claim("officer.pl")], release("officer.pl"), {}),
        ([], assign("officer.pl"), {"requesting": "officer.pl"}),
        ([claim("officer.pl")], assign("officer2.pl"), {"requesting": "officer2.pl"}),
        (
            [claim("officer.pl")],
            claim("officer.ua", REQUESTED),
            {"requesting": "officer.pl", "requested": "officer.ua"},
        ),
        (
            [claim("officer.pl"), claim("officer.ua", REQUESTED)],
            release("officer.ua", REQUESTED),
            {"requesting": "officer.pl"},
        ),
        (
            [claim("officer.pl"), release("officer.pl")],
            claim("officer2.pl"),
            {"requesting": "officer2.pl"},
        ),
    ],
)
def test_each_change_is_one_event_and_the_state_keeps_each_sides_assignee(
    before: list[Command], command: Command, after: dict[str, str]
) -> None:
    state = with_(before)
    events = decide(command, state)
    assert len(events) == 1 and isinstance(events[0], CaseAssigned)
    assert isinstance(command, ClaimCase | ReleaseCase | AssignCase)
    assert events[0].side is command.side
    assert fold(events, state).assignees == after


def test_a_release_records_no_assignee() -> None:
    state = with_([claim("officer.pl")])
    (event,) = decide(release("officer.pl"), state)
    assert isinstance(event, CaseAssigned) and event.assignee is None


@pytest.mark.parametrize(
    ("before", "command", "error", "words"),
    [
        (
            [claim("officer.pl")],
            claim("officer2.pl"),
            AlreadyAssigned,
            "assigned to officer.pl: a supervisor reassigns",
        ),
        ([claim("officer.pl")], claim("officer.pl"), AlreadyRecorded, "already yours"),
        ([], release("officer.pl"), NotAssigned, "no assignee"),
        ([claim("officer.pl")], release("officer2.pl"), NotAssigned, "assigned to officer.pl"),
        ([claim("officer.pl")], assign("officer.pl"), AlreadyRecorded, "already assigned"),
        # the other side's assignee is no one's to release here
        ([claim("officer.ua", REQUESTED)], release("officer.ua"), NotAssigned, "no assignee"),
    ],
)
def test_refusals(
    before: list[Command], command: Command, error: type[DomainError], words: str
) -> None:
    assert words in refuses(command, with_(before), error)


def test_a_closed_case_refuses_every_assignment_but_a_final_outcome_does_not() -> None:
    withdrawn = with_([WithdrawCase(at=AT, reasons=("no longer needed",))])
    assert withdrawn.status is Status.WITHDRAWN
    assert with_([claim("officer.pl")], withdrawn).assignees == {"requesting": "officer.pl"}
    closed = with_([claim("officer.pl"), CloseCase(at=AT)], withdrawn)
    assert closed.status is Status.CLOSED
    for command in (claim("officer2.pl"), release("officer.pl"), assign("officer2.pl")):
        assert "closed" in refuses(command, closed, CaseClosedError)


def test_a_case_not_opened_and_an_assignment_before_the_last_event_are_refused() -> None:
    refuses(claim("officer.pl"), CaseState(), WrongStatus)
    refuses(claim("officer.pl", at=T0 - timedelta(days=1)), submitted(), InvalidCommand)


def test_assignment_moves_no_status_no_limit_and_calls_for_no_notice() -> None:
    state = submitted()
    decision = execute(claim("officer.pl"), state, uuid4)
    assert decision.notices == ()
    after = decision.state
    assert (after.status, after.open_limits, after.deadlines) == (
        state.status,
        state.open_limits,
        state.deadlines,
    )
    assert expected_actions(after) == expected_actions(state)


def test_the_event_is_stored_and_read_back_as_it_was() -> None:
    for event in (
        CaseAssigned(at=AT, side=REQUESTED, assignee="officer.ua"),
        CaseAssigned(at=AT, side=REQUESTING, assignee=None),
    ):
        stored = dump_event(event)
        assert stored["side"] == event.side.value and "assignee" in stored
        assert parse_event(stored) == event


def test_the_domain_judges_the_side_it_is_given() -> None:
    """`decide_assignment` reads the command's own side: the API and the workflow set and check
    it, the decider keeps each side apart."""
    state = with_([claim("officer.pl")])
    (event,) = decide_assignment(claim("officer.ua", REQUESTED), state)
    assert event.side is REQUESTED


# --- who may issue them, and where they go -----------------------------------------------------

PL_OFFICER = Actor(user_id="officer.pl", state="PL", role="officer")
PL_SUPERVISOR = Actor(user_id="supervisor.pl", state="PL", role="supervisor")
UA_OFFICER = Actor(user_id="officer.ua", state="UA", role="officer")
PL_AUDITOR = Actor(user_id="auditor.pl", state="PL", role="auditor")


@pytest.mark.parametrize(
    ("actor", "command", "refused"),
    [
        (PL_OFFICER, claim("officer.pl"), None),
        (PL_SUPERVISOR, claim("supervisor.pl"), None),
        (UA_OFFICER, claim("officer.ua", REQUESTED), None),
        (UA_OFFICER, claim("officer.ua"), "requesting state (PL)"),  # another state's side
        (PL_OFFICER, claim("officer2.pl"), "acting officer's own"),  # on someone's behalf
        (PL_OFFICER, release("officer2.pl"), "acting officer's own"),
        (PL_OFFICER, assign("officer2.pl"), "a supervisor assigns"),
        (PL_SUPERVISOR, assign("officer2.pl"), None),
        (PL_SUPERVISOR, assign("officer.ua", REQUESTED), "requested state (UA)"),
        (PL_AUDITOR, claim("auditor.pl"), "an auditor issues no case commands"),
    ],
)
def test_who_may_claim_release_and_assign(
    actor: Actor, command: Command, refused: str | None
) -> None:
    found = may_not_act(actor, command, submitted())
    assert found == refused if refused is None else (found is not None and refused in found)


def test_assignment_never_crosses_to_the_other_node() -> None:
    for state in (draft(), submitted(), with_([claim("officer.pl")])):
        for command in (
            claim("officer.pl"),
            release("officer.pl"),
            assign("officer.ua", REQUESTED),
        ):
            assert not crosses(command, state)
    assert crosses(WithdrawCase(at=AT, reasons=("x",)), submitted())  # what happens to it does


def test_a_case_with_assignees_replays_to_the_same_state() -> None:
    commands: list[Command] = [
        open_case(),
        SubmitApplication(at=T0 + timedelta(minutes=5)),
        claim("officer.pl"),
        claim("officer.ua", REQUESTED),
        assign("officer2.pl"),
        release("officer.ua", REQUESTED),
    ]
    state, events = run(commands)
    assert fold(parse_event(dump_event(e)) for e in events) == state
    assert state.assignees == {"requesting": "officer2.pl"}


def test_a_claim_is_no_move_of_the_case_a_reply_counted_before_it_still_counts() -> None:
    """A reply sent just before its deadline may be received after it and recorded at its
    signed sending instant (docs/federation.md); a claim recorded on the waiting node meanwhile
    does not make that reply lie before the case's last move."""
    state = submitted()
    due = state.deadlines["reply"].due
    claimed = with_([claim("officer.pl", at=due + timedelta(seconds=30))], state)
    assert claimed.updated_at == state.updated_at
    reply = AcceptApplication(at=due - timedelta(seconds=10))
    assert [e.type for e in decide(reply, claimed)] == [e.type for e in decide(reply, state)]
