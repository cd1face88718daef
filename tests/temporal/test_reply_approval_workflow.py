"""A reply's approval in the case workflow, on the time-skipping server: a draft does not stop
the reply clock, an approval before the deadline is the reply at the approval instant, and one
after it comes too late (the limit's consequence has applied)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from case_system import CaseSystem
from test_case_workflow import OLENA, events, now, submitted_and_received

from adapters.temporal.cases import CommandRefused
from domain.commands import ApproveReply, DraftReply, ReturnReply
from domain.values import Status
from workflows.contracts import Actor

OKSANA = Actor(user_id="oksana.ua", state="UA", role="supervisor")

pytestmark = pytest.mark.temporal


def draft(at: object, reply: str = "accept") -> DraftReply:
    if reply == "refuse":
        return DraftReply(at=at, reply="refuse", reasons=("not a national",), by=OLENA.user_id)
    return DraftReply(at=at, reply="accept", note="registry checked", by=OLENA.user_id)


async def test_an_approval_before_the_deadline_is_the_reply_at_its_instant(
    case_system: CaseSystem,
) -> None:
    gateway = case_system.gateway
    case_id = await submitted_and_received(case_system)
    drafted = await gateway.execute(case_id, draft(await now(case_system)), OLENA)
    assert [e.type for e in drafted.events] == ["ReplyDrafted"]
    assert drafted.status == Status.RECEIVED.value
    with pytest.raises(CommandRefused) as twice:
        await gateway.execute(case_id, draft(await now(case_system), "refuse"), OLENA)
    assert twice.value.type == "ReplyAlreadyDrafted"
    with pytest.raises(CommandRefused) as officer:
        await gateway.execute(case_id, ApproveReply(at=await now(case_system)), OLENA)
    assert officer.value.http_status == 403

    await case_system.sleep(2 * 86400)  # the supervisor approves two days later
    approving_at = await now(case_system)
    approved = await gateway.execute(case_id, ApproveReply(at=approving_at), OKSANA)
    assert approved.status == Status.ACCEPTED.value
    assert approved.events[0].type == "ApplicationAccepted"
    assert approved.at is not None and approved.at >= approving_at  # counted from approval
    state = (await gateway.view(case_id)).state
    assert state.replied_at == approved.at and state.reply_draft is None
    assert state.replied_at - drafted.events[0].at >= timedelta(days=2)
    recorded = await case_system.store.read_stream(case_id)
    accepted = next(r for r in recorded if r.event().type == "ApplicationAccepted")
    assert accepted.metadata["actor"] == OKSANA.user_id


async def test_a_draft_does_not_stop_the_reply_clock(case_system: CaseSystem) -> None:
    gateway = case_system.gateway
    case_id = await submitted_and_received(case_system)
    await gateway.execute(case_id, draft(await now(case_system), "refuse"), OLENA)
    reply = (await gateway.view(case_id)).state.deadlines["reply"]
    await case_system.sleep((reply.due - await now(case_system)).total_seconds() + 5)
    stored = [e.type for e in await events(case_system, case_id)]
    assert "DeemedAccepted" in stored  # the reply limit's consequence, draft or no draft
    assert "ApplicationRefused" not in stored
    state = (await gateway.view(case_id)).state
    assert state.status is Status.DEEMED_ACCEPTED and state.reply_draft is None
    with pytest.raises(CommandRefused) as late:  # the approval after the deadline: too late
        await gateway.execute(case_id, ApproveReply(at=await now(case_system)), OKSANA)
    assert late.value.type == "NothingDrafted"
    with pytest.raises(CommandRefused) as again:  # and so is drafting
        await gateway.execute(case_id, draft(await now(case_system)), OLENA)
    assert again.value.type in ("WrongStatus", "ReplyDeadlinePassed")


async def test_a_returned_draft_is_drafted_again(case_system: CaseSystem) -> None:
    gateway = case_system.gateway
    case_id = await submitted_and_received(case_system)
    await gateway.execute(case_id, draft(await now(case_system)), OLENA)
    back = await gateway.execute(
        case_id, ReturnReply(at=await now(case_system), reasons=("cite the registry",)), OKSANA
    )
    assert [e.type for e in back.events] == ["ReplyReturned"]
    await gateway.execute(case_id, draft(await now(case_system), "refuse"), OLENA)
    refused = await gateway.execute(case_id, ApproveReply(at=await now(case_system)), OKSANA)
    assert refused.status == Status.REFUSED.value
