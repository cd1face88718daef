"""Full case lifecycle throughput on the Temporal dev server, against a trivial workflow.

One in-memory dev server (real clock), real workers from `workers.root` in this
process, PostgreSQL in a scratch schema. A case is walked the standard way through the gateway
the API uses: open → submit → receipt → accept → transfer scheduled → transferred → closed, then
its workflow's result is awaited (notices and identity verification included). The baseline is
a workflow that runs one activity, on the same server, in the same process, at the same
concurrency. Both run in alternating rounds; a round's rate counts the runs completed in a
steady-state window (after a ramp-up, before the drain). The rates are the medians of the
rounds; the ratio is the median of each round's own ratio (a round's case window against the
trivial window just before it), so a machine whose speed drifts between rounds (shared CPUs)
does not pair a fast baseline with a slow case run. The issue's
target: ratio ≥ 0.25.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client

from adapters.db.event_queries import count_events
from adapters.temporal.cases import CaseGateway
from bench._support import (
    ANNA,
    OLENA,
    SIGNER,
    case_id,
    dev_server,
    new_keyring,
    opening,
    queue_prefix,
    running_workers,
    schema_pool,
    scratch_schema,
)
from bench._workflows import Trivial, touch
from domain.commands import (
    AcceptApplication,
    CloseCase,
    CompleteTransfer,
    ConfirmReceipt,
    ScheduleTransfer,
    SubmitApplication,
)
from workers.main import ExtraWorker
from workflows.contracts import CaseOutcome

TARGET_RATIO = 0.25
CONCURRENCY = 16
One = Callable[[], Awaitable[None]]


class Walks:
    """One lifecycle (`case`) or one trivial workflow (`trivial`) per call."""

    def __init__(self, client: Client, gateway: CaseGateway, trivial_queue: str) -> None:
        self.client, self.gateway, self.trivial_queue = client, gateway, trivial_queue
        self.numbers = itertools.count(1)

    async def case(self) -> None:
        case, gateway = case_id(next(self.numbers)), self.gateway
        now = datetime.now(UTC)  # the workflow stamps its own instants; this fills the fields
        await gateway.open(opening(case, now), ANNA)
        await gateway.execute(case, SubmitApplication(at=now), ANNA)
        await gateway.execute(case, ConfirmReceipt(at=now), OLENA)
        await gateway.execute(case, AcceptApplication(at=now), OLENA)
        plan = ScheduleTransfer(
            at=now, on=now + timedelta(days=3), bcp="Medyka-Shehyni", mode="land"
        )
        await gateway.execute(case, plan, ANNA)
        await gateway.execute(case, CompleteTransfer(at=now), ANNA)
        await gateway.execute(case, CloseCase(at=now), ANNA)
        view = await self.client.get_workflow_handle(case, result_type=CaseOutcome).result()
        if view.status != "closed":
            raise RuntimeError(f"{case} ended {view.status}, not closed")

    async def trivial(self) -> None:
        await self.client.execute_workflow(
            Trivial.run, "t", id=f"trivial-{uuid.uuid4()}", task_queue=self.trivial_queue
        )


async def window(one: One, seconds: float, concurrency: int, ramp: float) -> int:
    """Runs completed in a steady-state window: `concurrency` loops run back to back; those
    finishing between `ramp` and `ramp + seconds` count; then no new run starts and the runs
    in flight finish (untimed), so the next window starts on an idle worker."""
    done = 0
    started = time.perf_counter()
    opens, closes = started + ramp, started + ramp + seconds

    async def loop() -> None:
        nonlocal done
        while time.perf_counter() < closes:
            await one()
            if opens <= time.perf_counter() <= closes:
                done += 1

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return done


async def run(quick: bool) -> dict[str, Any]:
    seconds, rounds = (5.0, 1) if quick else (12.0, 3)
    trivial_ramp, case_ramp = (1.0, 3.0) if quick else (2.0, 5.0)
    keyring = new_keyring()
    async with (
        scratch_schema("bench_lc") as scratch,
        schema_pool(scratch) as pool,
        dev_server(keyring) as env,
    ):
        prefix = queue_prefix("lc")
        trivial_queue = f"{prefix}-trivial"
        trivial = ExtraWorker(trivial_queue, workflows=[Trivial], activities=[touch])
        async with running_workers(env.client, pool, prefix, extra_workers=[trivial]) as root:
            gateway = CaseGateway(env.client, vault=root.vault, signer=SIGNER, queue_prefix=prefix)
            walks = Walks(env.client, gateway, trivial_queue)
            # untimed: the sandbox imports the workflow modules, connections are made
            await asyncio.gather(*(walks.case() for _ in range(4)))
            await asyncio.gather(*(walks.trivial() for _ in range(4)))
            rates: dict[str, list[float]] = {"case": [], "trivial": []}
            counts: dict[str, int] = {"case": 0, "trivial": 0}
            for _ in range(rounds):
                for kind, one, ramp in (
                    ("trivial", walks.trivial, trivial_ramp),
                    ("case", walks.case, case_ramp),
                ):
                    completed = await window(one, seconds, CONCURRENCY, ramp)
                    rates[kind].append(completed / seconds)
                    counts[kind] += completed
        events = await count_events(pool)
    value, baseline = statistics.median(rates["case"]), statistics.median(rates["trivial"])
    ratios = [case / trivial for case, trivial in zip(rates["case"], rates["trivial"], strict=True)]
    ratio = statistics.median(ratios)
    print(
        f"  lifecycle {value:.2f} cases/s, trivial {baseline:.1f} workflows/s ({ratio:.2f}); "
        f"{counts['case']} cases, {events} events"
    )
    return {
        "metrics": [
            {
                "name": f"case open → closed, {CONCURRENCY} at a time",
                "unit": "cases/s",
                "value": value,
                "baseline": baseline,
                "ratio": ratio,
                "rounds": rates,
                "round_ratios": ratios,
            }
        ],
        "concurrency": CONCURRENCY,
        "window_seconds": seconds,
        "completed": counts,
        "events_recorded": events,
        "target": {"ratio": TARGET_RATIO, "met": ratio >= TARGET_RATIO},
    }
