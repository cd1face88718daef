"""The baselines' workflows: a trivial one-activity workflow and a plain timer.

Kept apart from the benches so the workflow sandbox imports only this small module (stdlib and
`temporalio` at the top, as every workflow module of the project).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_touch")
async def touch(tag: str) -> float:
    """Returns the wall-clock instant (epoch seconds) at which it ran."""
    return time.time()


@workflow.defn(name="BenchTrivial")
class Trivial:
    """Start, one activity, done: what any workflow costs on this server and worker."""

    @workflow.run
    async def run(self, tag: str) -> float:
        return await workflow.execute_activity(
            touch, tag, start_to_close_timeout=timedelta(seconds=30)
        )


@workflow.defn(name="BenchSleepUntil")
class SleepUntil:
    """A plain `workflow.sleep` until an instant, then one activity that notes when it ran."""

    @workflow.run
    async def run(self, until: datetime) -> float:
        await workflow.sleep(max(until - workflow.now(), timedelta(0)))
        return await workflow.execute_activity(
            touch, "timer", start_to_close_timeout=timedelta(seconds=30)
        )


@workflow.defn(name="BenchUpdatable")
class Updatable:
    """A workflow that answers a trivial update at once and ends when told: what any update
    round trip (client → server → worker → server → client) costs on this server."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.update(name="bench_ping")
    def ping(self, n: int) -> int:
        return n + 1

    @workflow.signal(name="bench_done")
    def finish(self) -> None:
        self.done = True
