"""Cases walked from opening to closing through `CaseGateway`, and the checks that nothing was
lost or duplicated on the way, for tests that break the stack underneath them.

`walk_case` plays the two officers: open, submit, receipt, wait for the identity verification
the receipt starts, then accept, transfer and close (or refuse: the case then closes by itself).
Every command carries an idempotency key, and a command that fails because Temporal is
unreachable is sent again with the same key, as the API's callers do after a 503.

`audit_case` then compares three records of the case: the event store (hash chain), the
workflow's own history (the results of its commits, each a local activity, and a deterministic
replay), and the outbox (`notifications`, by notice key).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from adapters.agreements.catalogue import load_catalogue
from adapters.audit.verify import Verifier, local_activity_marker
from adapters.db.eventstore import EventStore
from adapters.temporal.cases import CaseGateway
from domain.commands import (
    AcceptApplication,
    CloseCase,
    Command,
    CompleteTransfer,
    ConfirmReceipt,
    OpenCase,
    RefuseApplication,
    ScheduleTransfer,
    SubmitApplication,
)
from domain.decider import fold
from domain.notices import notices_for
from domain.values import EvidenceItem, Person
from workflows.contracts import Actor, CommandResult

ANNA = Actor(user_id="anna.pl", state="PL", role="officer")
OLENA = Actor(user_id="olena.ua", state="UA", role="officer")
# Temporal unreachable (a restarting frontend): worth sending the same request again.
TRANSIENT = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)

T = TypeVar("T")
Pause = Callable[[], Awaitable[None]]


def think_times(rng: random.Random, low: float = 0.05, high: float = 0.5) -> Pause:
    """An officer's pauses between two commands: uniformly `low` to `high` seconds."""

    async def pause() -> None:
        await asyncio.sleep(rng.uniform(low, high))

    return pause


def opening(case_id: str, now: datetime) -> OpenCase:
    """Anna (PL) opens an EU-UA case for an own national with a passport, found two days ago."""
    return OpenCase(
        at=now,
        case_id=case_id,
        terms=load_catalogue().terms("EU-UA", "PL", "UA"),
        category="own_national",
        person=Person(surname="Shevchenko", given_names="Oleksandr", birth_date=date(1990, 5, 17)),
        evidence=(EvidenceItem(kind="passport", number="FA123456"),),
        knowledge_at=now - timedelta(days=2),
    )


def new_case_id() -> str:
    return f"PL-UA-2027-{secrets.randbelow(10**6):06d}"


async def persist(call: Callable[[], Awaitable[T]], within: float = 180.0) -> T:
    """`call()`, again while Temporal is unreachable (UNAVAILABLE, or the connection broke)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await call()
        except RPCError as error:
            # "transport error": the connection broke (the frontend went away or stalled)
            transient = error.status in TRANSIENT or "transport error" in error.message
            if not transient or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


async def wait_for_event(pool: asyncpg.Pool, case_id: str, event_type: str, within: float) -> None:
    """Until the store holds an event of this type for the case (the clock of a background
    activity is the workflow's, not the test's)."""
    deadline = time.monotonic() + within
    while not await pool.fetchval(
        "SELECT true FROM case_events WHERE stream_id = $1 AND type = $2", case_id, event_type
    ):
        assert time.monotonic() < deadline, f"no {event_type} for {case_id} within {within} s"
        await asyncio.sleep(0.1)


async def wait_for_events(pool: asyncpg.Pool, count: int, within: float) -> int:
    """Until the store holds at least `count` events (of any case); returns how many."""
    deadline = time.monotonic() + within
    while (stored := int(await pool.fetchval("SELECT count(*) FROM case_events"))) < count:
        assert time.monotonic() < deadline, f"{stored} events stored after {within} s"
        await asyncio.sleep(0.05)
    return stored


@dataclass
class Walk:
    """One case walked to its close: its path and what the workflow answered to each command."""

    case_id: str
    refuse: bool
    results: list[CommandResult]


async def walk_case(
    gateway: CaseGateway,
    pool: asyncpg.Pool,
    case_id: str,
    *,
    refuse: bool = False,
    pause: Pause | None = None,
    patience: float = 180.0,
) -> Walk:
    """Drive one case from opening to closing, pausing between commands with `pause()`."""
    now = datetime.now(UTC)
    walk = Walk(case_id, refuse, [])

    async def send(command: Command, who: Actor, step: str) -> None:
        if pause is not None:
            await pause()
        key = f"{case_id}-{step}"
        if isinstance(command, OpenCase):
            result = await persist(lambda: gateway.open(command, who, request_id=key), patience)
        else:
            result = await persist(
                lambda: gateway.execute(case_id, command, who, request_id=key), patience
            )
        walk.results.append(result)

    await send(opening(case_id, now), ANNA, "open")
    await send(SubmitApplication(at=now), ANNA, "submit")
    await send(ConfirmReceipt(at=now), OLENA, "receipt")
    await wait_for_event(pool, case_id, "VerificationRecorded", patience)
    if refuse:
        await send(RefuseApplication(at=now, reasons=("not a national",)), OLENA, "refuse")
    else:
        await send(AcceptApplication(at=now), OLENA, "accept")
        on = now + timedelta(days=3)
        transfer = ScheduleTransfer(at=now, on=on, bcp="Medyka-Shehyni", mode="land")
        await send(transfer, ANNA, "schedule")
        await send(CompleteTransfer(at=now), ANNA, "done")
        await send(CompleteTransfer(at=now), ANNA, "done")  # a retry: same key, nothing new
        await send(CloseCase(at=now), ANNA, "close")
    # a refused case closes by itself (its workflow issues the close as the case's clock)
    # the run ends only once every notice is written
    await persist(lambda: gateway.handle(case_id).result(), patience)
    return walk


@dataclass
class Audit:
    events: int
    notices: int
    retries: int  # tasks run again after the server timed them out


async def audit_case(walk: Walk, store: EventStore, client: Client) -> Audit:
    """Assert that nothing of the case was lost or duplicated, and that its chain verifies."""
    case_id = walk.case_id
    verifier = Verifier(store, client, client.data_converter)
    report = await verifier.verify(case_id)
    # the hash chain recomputes, the history replays, store and workflow hold the same events
    assert report.ok, report.as_dict()
    recorded = await store.read_stream(case_id)
    assert [r.version for r in recorded] == list(range(1, len(recorded) + 1))
    events = [r.event() for r in recorded]
    types = [e.type for e in events]
    assert types[0] == "CaseOpened" and types[-1] == "CaseClosed", types
    assert types.count("VerificationRecorded") == 1, types
    # every event the workflow answered with is stored once, at the version it announced
    answered = [(e.version, e.event_id) for r in walk.results for e in r.events]
    stored = {(r.version, r.event_id) for r in recorded}
    assert len(set(answered)) == len({v for v, _ in answered}), answered
    assert set(answered) <= stored
    # notices: each one the stored events call for is written once, with its events
    histories = await verifier.histories(case_id)
    expected = notices_for(
        case_id, [(r.event_id, e) for r, e in zip(recorded, events, strict=True)], fold(events)
    )
    rows = await store.pool.fetch(  # one inbox row each (the officer's, or the role's)
        "SELECT notice_key FROM notifications WHERE case_id = $1 AND channel = 'inbox'", case_id
    )
    assert sorted(r["notice_key"] for r in rows) == sorted(n.key for n in expected)
    return Audit(len(recorded), len(expected), retries(histories))


def retries(histories: list[WorkflowHistory]) -> int:
    """Tasks run again: workflow tasks the server timed out (abandoned by a killed worker, or
    left on a dead worker's sticky queue) and activity attempts beyond the first, local
    activities' included (their markers count the attempts)."""
    count = 0
    for history in histories:
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                count += 1
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                count += event.activity_task_started_event_attributes.attempt - 1
            elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
                marker = local_activity_marker(event)
                if marker is not None:
                    count += marker[0].get("attempt", 1) - 1
    return count
