"""A running case keeps the deadlines it recorded when its workflow is replayed under newer
calendars: a worker whose holiday data has a holiday more inside a running limit (an upgraded
`holidays` package) replays the case's history without error and goes on from the recorded
deadline and its timer, not from one it computes again."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import holidays
import observed_workflow
import pytest
from case_system import CaseSystem
from observed_workflow import ObservedCase
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from test_case_workflow import ANNA, OLENA, events, new_case_id, now

from adapters.agreements.catalogue import load_catalogue
from domain import calendars
from domain.agreements import Unit
from domain.alarms import next_alarm
from domain.commands import AcceptApplication, OpenCase, ScheduleTransfer, SubmitApplication
from domain.deadlines import deadline_for, nth_working_day_after
from domain.events import DeadlineSet
from domain.values import EvidenceItem, Person, Status

pytestmark = pytest.mark.temporal


async def submitted_under_working_days(system: CaseSystem) -> str:
    """A case whose reply limit counts 5 Ukrainian working days, submitted (so delivered)."""
    terms = load_catalogue().terms("EU-UA", "PL", "UA")
    reply = terms.limits["reply"].model_copy(
        update={"amount": 5, "unit": Unit.WORKING_DAYS, "extension": None}
    )
    terms = terms.model_copy(update={"limits": {**terms.limits, "reply": reply}})
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


async def test_a_replay_under_a_calendar_with_a_new_holiday_keeps_the_recorded_deadline(
    case_system: CaseSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await submitted_under_working_days(case_system)
    [reply] = [
        e.deadline
        for e in await events(case_system, case_id)
        if isinstance(e, DeadlineSet) and e.deadline.limit == "reply"
    ]
    history = await case_system.client.get_workflow_handle(case_id).fetch_history()

    # the first Ukrainian working day after the receipt day becomes a holiday
    ukraine = holidays.country_holidays("UA")
    day = reply.triggered_at.astimezone(calendars.zone_of("UA")).date() + timedelta(days=1)
    while not ukraine.is_working_day(day):
        day += timedelta(days=1)
    newer = holidays.country_holidays("UA")
    newer.update({day: "a public holiday declared since"})
    original = calendars._calendar
    monkeypatch.setattr(
        calendars, "_calendar", lambda state: newer if state == "UA" else original(state)
    )
    terms = load_catalogue().terms("EU-UA", "PL", "UA")
    limit = terms.limits["reply"].model_copy(
        update={"amount": 5, "unit": Unit.WORKING_DAYS, "extension": None}
    )
    terms = terms.model_copy(update={"limits": {**terms.limits, "reply": limit}})
    recomputed = deadline_for(terms, "reply", reply.triggered_at)
    assert recomputed.due > reply.due  # the new holiday lies inside the running limit

    observed_workflow.STATES.clear()
    replayer = Replayer(
        workflows=[ObservedCase],
        data_converter=case_system.client.data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    await replayer.replay_workflow(history)  # raises on any nondeterminism
    replayed = observed_workflow.STATES[-1]
    assert replayed.deadlines["reply"] == reply  # the recorded due instant, not the recomputed
    expiry = next_alarm(replayed, {}, reply.due)
    assert expiry is not None and expiry.limit == "reply" and expiry.at > reply.due
    assert expiry.at - reply.due < timedelta(seconds=2)  # the timer runs to the recorded instant


async def test_a_transfer_admitted_under_older_calendars_replays_under_newer_ones(
    case_system: CaseSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transfer notified on the earliest day the notice's working days allowed stays recorded
    when a holiday declared since makes that day too early: the lead time was judged when the
    notice was admitted, and the replay does not judge it again."""
    terms = load_catalogue().terms("EU-UA", "PL", "UA")
    transfer = terms.transfer.model_copy(update={"notice_working_days": 3})
    terms = terms.model_copy(update={"transfer": transfer})
    case_id: str = new_case_id()
    at = await now(case_system)
    opening = OpenCase(
        at=at,
        case_id=case_id,
        terms=terms,
        category="own_national",
        person=Person(surname="Shevchenko", given_names="Oleksandr", birth_date=date(1990, 5, 17)),
        evidence=(EvidenceItem(kind="passport", number="FA123456"),),
        knowledge_at=at - timedelta(days=1),
    )
    gateway = case_system.gateway
    await gateway.open(opening, ANNA, request_id=f"open-{case_id}")
    await gateway.execute(case_id, SubmitApplication(at=at), ANNA)
    await gateway.execute(case_id, AcceptApplication(at=at), OLENA)
    kyiv = calendars.zone_of("UA")
    notified = (await now(case_system)).astimezone(kyiv)
    earliest = nth_working_day_after(("UA",), notified.date(), 3)
    on = datetime.combine(earliest, time(12), tzinfo=kyiv)
    plan = ScheduleTransfer(at=notified, on=on, bcp="Medyka–Shehyni", mode="land")
    assert (await gateway.execute(case_id, plan, ANNA)).status == "transfer_scheduled"
    history = await case_system.client.get_workflow_handle(case_id).fetch_history()

    ukraine = holidays.country_holidays("UA")
    day = notified.date() + timedelta(days=1)
    while not ukraine.is_working_day(day):
        day += timedelta(days=1)
    newer = holidays.country_holidays("UA")
    newer.update({day: "a public holiday declared since"})
    original = calendars._calendar
    monkeypatch.setattr(
        calendars, "_calendar", lambda state: newer if state == "UA" else original(state)
    )
    assert nth_working_day_after(("UA",), notified.date(), 3) > earliest  # now too early

    observed_workflow.STATES.clear()
    replayer = Replayer(
        workflows=[ObservedCase],
        data_converter=case_system.client.data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    await replayer.replay_workflow(history)  # raises if the notice were judged again
    assert observed_workflow.STATES[-1].status is Status.TRANSFER_SCHEDULED
