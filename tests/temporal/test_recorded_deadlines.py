"""A running case keeps what it recorded when its workflow is replayed under newer calendars: a
worker whose holiday data has one holiday more (an upgraded `holidays` package) replays the
case's history without error, goes on from the recorded deadline and its timer rather than one
it computes again, and does not judge again the working-day lead time of a command it admitted."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import holidays
import observed_workflow
import pytest
from case_system import CaseSystem
from observed_workflow import ObservedCase
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from test_case_workflow import ANNA, OLENA, events, new_case_id, now

from adapters.agreements.catalogue import load_catalogue
from domain import calendars
from domain.agreements import AgreementTerms, Unit
from domain.alarms import next_alarm
from domain.commands import AcceptApplication, OpenCase, ScheduleTransfer, SubmitApplication
from domain.deadlines import deadline_for, nth_working_day_after
from domain.events import DeadlineSet
from domain.state import CaseState
from domain.values import EvidenceItem, Person, Status

pytestmark = pytest.mark.temporal
KYIV = calendars.zone_of("UA")


def reply_in_working_days() -> AgreementTerms:
    """EU-UA terms whose reply limit counts 5 Ukrainian working days."""
    terms = load_catalogue().terms("EU-UA", "PL", "UA")
    reply = terms.limits["reply"].model_copy(
        update={"amount": 5, "unit": Unit.WORKING_DAYS, "extension": None}
    )
    return terms.model_copy(update={"limits": {**terms.limits, "reply": reply}})


def notice_in_working_days() -> AgreementTerms:
    """EU-UA terms whose transfer is notified 3 Ukrainian working days ahead."""
    terms = load_catalogue().terms("EU-UA", "PL", "UA")
    transfer = terms.transfer.model_copy(update={"notice_working_days": 3})
    return terms.model_copy(update={"transfer": transfer})


async def submitted_under(system: CaseSystem, terms: AgreementTerms) -> str:
    """A case opened under `terms` and submitted (so delivered)."""
    case_id: str = new_case_id()
    at = await now(system)
    opening = OpenCase(
        at=at,
        case_id=case_id,
        terms=terms,
        category="own_national",
        person=Person(surname="Shevchenko", given_names="Oleksandr", birth_date=date(1990, 5, 17)),
        evidence=(EvidenceItem(kind="passport", number="FA123456"),),
        knowledge_at=at - timedelta(days=1),
    )
    await system.gateway.open(opening, ANNA, request_id=f"open-{case_id}")
    await system.gateway.execute(case_id, SubmitApplication(at=at), ANNA)
    return case_id


def a_holiday_declared_since(monkeypatch: pytest.MonkeyPatch, after: date) -> date:
    """The first Ukrainian working day after `after` becomes a public holiday, as a newer
    `holidays` package would have it; the day."""
    day = after + timedelta(days=1)
    while not holidays.country_holidays("UA").is_working_day(day):
        day += timedelta(days=1)
    newer = holidays.country_holidays("UA")
    newer.update({day: "a public holiday declared since"})
    original = calendars._calendar
    monkeypatch.setattr(
        calendars, "_calendar", lambda state: newer if state == "UA" else original(state)
    )
    return day


async def replayed(system: CaseSystem, history: WorkflowHistory) -> CaseState:
    """The case's last state after replaying `history` (raises on any nondeterminism)."""
    observed_workflow.STATES.clear()
    replayer = Replayer(
        workflows=[ObservedCase],
        data_converter=system.client.data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    await replayer.replay_workflow(history)
    last: CaseState = observed_workflow.STATES[-1]
    return last


async def test_a_replay_under_a_calendar_with_a_new_holiday_keeps_the_recorded_deadline(
    case_system: CaseSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await submitted_under(case_system, reply_in_working_days())
    [reply] = [
        e.deadline
        for e in await events(case_system, case_id)
        if isinstance(e, DeadlineSet) and e.deadline.limit == "reply"
    ]
    history = await case_system.client.get_workflow_handle(case_id).fetch_history()

    a_holiday_declared_since(monkeypatch, reply.triggered_at.astimezone(KYIV).date())
    recomputed = deadline_for(reply_in_working_days(), "reply", reply.triggered_at)
    assert recomputed.due > reply.due  # the new holiday lies inside the running limit

    state = await replayed(case_system, history)
    assert state.deadlines["reply"] == reply  # the recorded due instant, not the recomputed
    expiry = next_alarm(state, {}, reply.due)
    assert expiry is not None and expiry.limit == "reply" and expiry.at > reply.due
    assert expiry.at - reply.due < timedelta(seconds=2)  # the timer runs to the recorded instant


async def test_a_transfer_admitted_under_older_calendars_replays_under_newer_ones(
    case_system: CaseSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transfer notified on the earliest day the notice's working days allowed stays recorded
    when a holiday declared since makes that day too early: the lead time was judged when the
    notice was admitted, and the replay does not judge it again."""
    case_id = await submitted_under(case_system, notice_in_working_days())
    gateway = case_system.gateway
    await gateway.execute(case_id, AcceptApplication(at=await now(case_system)), OLENA)
    notified = (await now(case_system)).astimezone(KYIV)
    earliest = nth_working_day_after(("UA",), notified.date(), 3)
    on = datetime.combine(earliest, time(12), tzinfo=KYIV)
    plan = ScheduleTransfer(at=notified, on=on, bcp="Medyka–Shehyni", mode="land")
    assert (await gateway.execute(case_id, plan, ANNA)).status == "transfer_scheduled"
    history = await case_system.client.get_workflow_handle(case_id).fetch_history()

    a_holiday_declared_since(monkeypatch, notified.date())
    assert nth_working_day_after(("UA",), notified.date(), 3) > earliest  # now too early

    state = await replayed(case_system, history)  # raises if the notice were judged again
    assert state.status is Status.TRANSFER_SCHEDULED
