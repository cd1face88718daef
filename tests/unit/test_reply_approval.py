"""A reply's approval (domain.reply_approval) as decider tables: an officer drafts the reply, a
supervisor approves it (the real reply, at the approval instant) or returns it; the draft does
not stop the reply clock, is refused once the reply limit has ended, and stays on its node."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from factories import at, open_case, run, terms
from transit_factories import REPLY_DUE as TRANSIT_REPLY_DUE
from transit_factories import SUBMITTED as TRANSIT_SUBMITTED
from transit_factories import open_transit, transit_terms

from domain.agreements import OnExpiry
from domain.approval_policy import ApprovalPolicy
from domain.commands import (
    AcceptApplication,
    ApproveReply,
    Command,
    ConfirmReceipt,
    DraftReply,
    ExpireLimit,
    RefuseApplication,
    ReturnReply,
    SubmitApplication,
)
from domain.decider import decide, execute, fold, validate
from domain.errors import (
    DomainError,
    InvalidCommand,
    NothingDrafted,
    ReasonsRequired,
    ReplyAlreadyDrafted,
    ReplyDeadlinePassed,
    WrongStatus,
)
from domain.events import ReplyDrafted, ReplyReturned, dump_event, parse_event
from domain.federation import crosses
from domain.reply_approval import as_sent
from domain.state import CaseState
from domain.values import Status
from workflows.contracts import Actor
from workflows.readmission_case import may_not_act

SUBMIT_AT = at("2027-01-05T12:00:00+02:00")
REPLY_DUE = at("2027-01-19T23:59:59+02:00")
DRAFT_AT = at("2027-01-10T09:00:00+02:00")
APPROVE_AT = at("2027-01-12T15:00:00+02:00")
OFFICER = Actor(user_id="officer.ua", state="UA", role="officer")
SUPERVISOR = Actor(user_id="supervisor.ua", state="UA", role="supervisor")


def submitted() -> CaseState:
    return run([open_case(), SubmitApplication(at=SUBMIT_AT)])[0]


def received() -> CaseState:
    return run([ConfirmReceipt(at=SUBMIT_AT)], submitted())[0]


def accept_draft(at_: object = DRAFT_AT) -> DraftReply:
    return DraftReply(at=at_, reply="accept", note="checked", by="officer.ua")


def refuse_draft() -> DraftReply:
    return DraftReply(at=DRAFT_AT, reply="refuse", reasons=("not a national",), by="officer.ua")


def drafted(draft: DraftReply | None = None) -> CaseState:
    return run([draft or accept_draft()], received())[0]


def refuses(command: Command, state: CaseState, error: type[DomainError]) -> None:
    with pytest.raises(error):
        decide(command, state)
    with pytest.raises(error):
        validate(command, state)


# --- drafting ---------------------------------------------------------------------------------


def test_a_draft_is_recorded_and_the_reply_clock_runs_on() -> None:
    before = received()
    events = decide(accept_draft(), before)
    assert [e.type for e in events] == ["ReplyDrafted"]
    state = fold(events, before)
    assert state.status is Status.RECEIVED
    assert state.reply_draft is not None and state.reply_draft.reply == "accept"
    assert state.reply_draft.by == "officer.ua" and state.reply_draft.at == DRAFT_AT
    assert "reply" in state.open_limits and state.replied_at is None
    assert state.deadlines["reply"] == before.deadlines["reply"]
    # a node's own business: the case's last move stays where it was
    assert state.updated_at == before.updated_at


def test_one_draft_at_a_time() -> None:
    refuses(refuse_draft(), drafted(), ReplyAlreadyDrafted)


def test_a_draft_after_the_reply_limit_is_refused_as_the_reply_would_be() -> None:
    late = accept_draft(REPLY_DUE + timedelta(seconds=1))
    refuses(late, received(), ReplyDeadlinePassed)
    refuses(AcceptApplication(at=late.at), received(), ReplyDeadlinePassed)


def test_a_draft_only_while_a_reply_is_awaited() -> None:
    refuses(accept_draft(), run([open_case()])[0], WrongStatus)
    accepted = run([AcceptApplication(at=DRAFT_AT)], received())[0]
    refuses(accept_draft(DRAFT_AT + timedelta(hours=1)), accepted, WrongStatus)


def test_a_refusal_draft_states_reasons_and_an_acceptance_gives_none() -> None:
    refuses(DraftReply(at=DRAFT_AT, reply="refuse", by="o"), received(), ReasonsRequired)
    with_note = DraftReply(at=DRAFT_AT, reply="refuse", reasons=("r",), note="n", by="o")
    refuses(with_note, received(), InvalidCommand)
    refuses(
        DraftReply(at=DRAFT_AT, reply="accept", reasons=("r",), by="o"), received(), InvalidCommand
    )


# --- approving ---------------------------------------------------------------------------------


def test_approval_issues_the_drafted_acceptance_at_the_approval_instant() -> None:
    state = drafted()
    events = decide(ApproveReply(at=APPROVE_AT), state)
    direct = decide(AcceptApplication(at=APPROVE_AT, note="checked"), state)
    assert events == direct  # the reply itself, its transfer deadline counted from approval
    assert events[0].type == "ApplicationAccepted" and events[0].at == APPROVE_AT
    after = fold(events, state)
    assert after.status is Status.ACCEPTED and after.replied_at == APPROVE_AT
    assert after.reply_draft is None


def test_approval_issues_the_drafted_refusal_with_its_reasons() -> None:
    state = drafted(refuse_draft())
    events = decide(ApproveReply(at=APPROVE_AT), state)
    assert events == decide(RefuseApplication(at=APPROVE_AT, reasons=("not a national",)), state)
    assert fold(events, state).status is Status.REFUSED


def test_approval_after_the_reply_limit_is_refused() -> None:
    refuses(ApproveReply(at=REPLY_DUE + timedelta(seconds=1)), drafted(), ReplyDeadlinePassed)


def test_the_limit_s_consequence_clears_the_draft() -> None:
    state = drafted()
    expired = fold(
        decide(ExpireLimit(at=REPLY_DUE + timedelta(seconds=1), limit="reply"), state), state
    )
    assert expired.status is Status.DEEMED_ACCEPTED
    assert expired.reply_draft is None
    refuses(ApproveReply(at=REPLY_DUE + timedelta(hours=1)), expired, NothingDrafted)


def test_a_reply_limit_that_escalates_clears_the_draft_once_it_has_ended() -> None:
    limits = dict(terms().limits)
    limits["reply"] = limits["reply"].model_copy(update={"on_expiry": OnExpiry.ESCALATE})
    opened = run([open_case(terms=terms(limits=limits)), SubmitApplication(at=SUBMIT_AT)])[0]
    state = run([ConfirmReceipt(at=SUBMIT_AT), accept_draft()], opened)[0]
    assert state.reply_draft is not None
    expired = fold(
        decide(ExpireLimit(at=REPLY_DUE + timedelta(seconds=1), limit="reply"), state), state
    )
    assert expired.status is Status.RECEIVED  # the limit escalates: the case still waits
    assert expired.reply_draft is None
    refuses(ApproveReply(at=REPLY_DUE + timedelta(hours=1)), expired, NothingDrafted)


def test_nothing_drafted_nothing_to_approve_or_return() -> None:
    refuses(ApproveReply(at=APPROVE_AT), received(), NothingDrafted)
    refuses(ReturnReply(at=APPROVE_AT, reasons=("redo",)), received(), NothingDrafted)


# --- returning ---------------------------------------------------------------------------------


def test_a_returned_draft_may_be_drafted_again() -> None:
    state = drafted()
    events = decide(ReturnReply(at=APPROVE_AT, reasons=("cite the registry",)), state)
    assert [e.type for e in events] == ["ReplyReturned"]
    back = fold(events, state)
    assert back.reply_draft is None
    assert back.reply_returned is not None and back.reply_returned.at == APPROVE_AT
    again = fold(decide(refuse_draft().model_copy(update={"at": APPROVE_AT}), back), back)
    assert again.reply_draft is not None and again.reply_draft.reply == "refuse"
    assert again.reply_returned is None


def test_a_return_states_reasons() -> None:
    refuses(ReturnReply(at=APPROVE_AT, reasons=()), drafted(), ReasonsRequired)


# --- who, and where ----------------------------------------------------------------------------


def test_supervisors_approve_and_return_officers_draft_their_own() -> None:
    state = drafted()
    approve, back = ApproveReply(at=APPROVE_AT), ReturnReply(at=APPROVE_AT, reasons=("r",))
    assert may_not_act(OFFICER, approve, state) is not None
    assert may_not_act(OFFICER, back, state) is not None
    assert may_not_act(SUPERVISOR, approve, state) is None
    assert may_not_act(SUPERVISOR, back, state) is None
    assert may_not_act(OFFICER, accept_draft(), received()) is None
    other = Actor(user_id="someone.else", state="UA", role="officer")
    assert may_not_act(other, accept_draft(), received()) is not None
    polish = Actor(user_id="supervisor.pl", state="PL", role="supervisor")
    assert may_not_act(polish, approve, state) is not None


def test_drafts_and_returns_stay_on_their_node_and_an_approval_crosses_as_the_reply() -> None:
    state = drafted()
    assert not crosses(accept_draft(), received())
    assert not crosses(ReturnReply(at=APPROVE_AT, reasons=("r",)), state)
    sent = as_sent(ApproveReply(at=APPROVE_AT), state)
    assert sent == AcceptApplication(at=APPROVE_AT, note="checked")
    assert crosses(sent, state)
    other = AcceptApplication(at=APPROVE_AT)
    assert as_sent(other, state) is other


def test_the_events_round_trip() -> None:
    for event in (
        ReplyDrafted(at=DRAFT_AT, reply="refuse", reasons=("r",), by="officer.ua"),
        ReplyReturned(at=APPROVE_AT, reasons=("r",)),
    ):
        assert parse_event(dump_event(event)) == event


# --- the installation's policy -----------------------------------------------------------------


def test_the_policy_names_states_and_agreements() -> None:
    policy = ApprovalPolicy.parse("PL:EU-UA, ua:*")
    assert policy.requires("PL", "EU-UA")
    assert not policy.requires("PL", "EU-MD")
    assert policy.requires("UA", "EU-MD")
    assert not policy.requires("DE", "EU-UA")
    assert not ApprovalPolicy.parse("").requires("PL", "EU-UA")


@pytest.mark.parametrize("bad", ["PL", "PL-EU-UA", "POL:EU-UA", "PL:", "PL:EU UA"])
def test_a_rule_that_is_not_one_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="STATE:AGREEMENT"):
        ApprovalPolicy.parse(bad)


# --- who hears of it -------------------------------------------------------------------------


def test_supervisors_hear_of_a_draft_and_its_officers_of_a_return() -> None:
    before = received()
    drafted_state = fold(decide(accept_draft(), before), before)
    decision = execute(accept_draft(), before, uuid4)
    assert [(n.state, n.role, n.kind) for n in decision.notices] == [
        ("UA", "supervisor", "ReplyDrafted")
    ]
    back = execute(ReturnReply(at=APPROVE_AT, reasons=("r",)), drafted_state, uuid4)
    assert [(n.state, n.role, n.kind) for n in back.notices] == [("UA", "officer", "ReplyReturned")]
    assert all(
        "awaits" in n.subject or "draft it again" in n.subject
        for n in (*decision.notices, *back.notices)
    )


# --- a transit case's reply: its consent or refusal, drafted and approved alike ---------------


def transit_received(**rules: object) -> CaseState:
    opening = open_transit(terms=transit_terms(**rules))
    return run([opening, SubmitApplication(at=TRANSIT_SUBMITTED)])[0]


def test_an_approved_transit_draft_is_the_consent_or_refusal_at_the_approval_instant() -> None:
    drafted_at = TRANSIT_SUBMITTED + timedelta(hours=2)
    approved_at = TRANSIT_SUBMITTED + timedelta(hours=6)
    state = transit_received()
    for draft, event, status in (
        (
            DraftReply(at=drafted_at, reply="accept", note="ok", by="o"),
            "TransitConsented",
            Status.CONSENTED,
        ),
        (
            DraftReply(at=drafted_at, reply="refuse", reasons=("no",), by="o"),
            "TransitRefused",
            Status.REFUSED,
        ),
    ):
        after, _ = run([draft], state)
        assert after.reply_draft is not None and after.status is Status.RECEIVED
        events = decide(ApproveReply(at=approved_at), after)
        assert type(events[0]).__name__ == event and events[0].at == approved_at
        final, _ = run([ApproveReply(at=approved_at)], after)
        assert final.reply_draft is None and final.status is status


def test_a_transit_draft_is_refused_once_silence_is_consent() -> None:
    late = DraftReply(
        at=TRANSIT_REPLY_DUE + timedelta(seconds=1), reply="refuse", reasons=("x",), by="o"
    )
    with pytest.raises(ReplyDeadlinePassed):
        validate(late, transit_received(silence_is_consent=True))
