"""Federation (issue 16): message delivery latency between two local nodes, and the case
lifecycle over two nodes against the single installation's, in the same run.

Two nodes, PL and UA, as `readmit run --federated` builds them (`bench._federation`): each its
own scratch schema, Temporal dev server, workers and API served by uvicorn on a loopback port;
their messages travel over real HTTP. All of it runs in this one process, as the lifecycle
bench's workers do.

- **Delivery latency.** For each of `cases` cases (opened on PL's node, one at a time), the
  submission is posted to PL's API and the acceptance to UA's; each answers 202 (`sending`).
  The latency is the time from that 202 to the sending node having applied the receipt: the
  command's events recorded in its own store (`Recorded`, polled every 5 ms). The baseline is
  the plainest round trip between the nodes: `GET /health` of the peer's API over the client
  the deliveries use, PL → UA and UA → PL, interleaved with the cases. Ratio = baseline /
  value.
- **Lifecycle.** A case walked open → submit → receipt → accept → transfer scheduled →
  transferred → closed through the nodes' case gateways (what their APIs call), each crossing
  command waited for until its sender applied the receipt (the next command may need it), then
  both nodes' workflows awaited, closed. The baseline is the lifecycle bench's walk
  (`bench.lifecycle.Walks.case`) on a single installation on PL's dev server, in a schema of its
  own, while the nodes idle. Both `CONCURRENCY` at a time, in alternating rounds
  (`bench.lifecycle.window`); the ratio is the median of each round's federated rate over the
  single rate measured just before it.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.temporal.cases import CaseGateway
from bench._federation import FederatedNode, FederatedNodes, federated_nodes
from bench._support import (
    ANNA,
    OLENA,
    SIGNER,
    case_id,
    latency_metrics,
    opening,
    queue_prefix,
    running_workers,
    schema_pool,
    scratch_schema,
)
from bench.lifecycle import Walks, window
from domain.commands import (
    AcceptApplication,
    CloseCase,
    Command,
    CompleteTransfer,
    ConfirmReceipt,
    ScheduleTransfer,
    SubmitApplication,
)
from workflows.contracts import Actor, CaseOutcome

# case numbers: the single installation's from 1 (bench.lifecycle.Walks), on PL's dev server too
FEDERATED_FIRST = 500_001
LATENCY_FIRST = 900_001
HEALTH_SAMPLES = 2  # per direction, per case
# half the lifecycle bench's 16: at 16, a case over two nodes in this one process takes about
# 10 s, as long as a window; at 8 the rate over two nodes is the same and a case takes 5 s
CONCURRENCY = 8


class FederatedWalks:
    """One case walked over the two nodes per call of `case`."""

    def __init__(self, nodes: FederatedNodes, first: int = FEDERATED_FIRST) -> None:
        self.pl, self.ua = nodes["PL"], nodes["UA"]
        self.numbers = itertools.count(first)

    @staticmethod
    async def cross(
        node: FederatedNode, case: str, command: Command, actor: Actor, event_type: str
    ) -> None:
        """`command` given on `node`, on its way to the other node; back once `node` has
        applied the receipt (the command's `event_type` event is in its store)."""
        result = await node.gateway.execute(case, command, actor)
        if result.sending is None:
            raise RuntimeError(f"{case}: {command.command} did not cross to the other node")
        await node.recorded.wait(case, event_type)

    async def case(self) -> None:
        case, pl, ua = case_id(next(self.numbers)), self.pl, self.ua
        now = datetime.now(UTC)  # the workflows stamp their own instants; this fills the fields
        await pl.gateway.open(opening(case, now), ANNA)
        await self.cross(pl, case, SubmitApplication(at=now), ANNA, "ApplicationSubmitted")
        await self.cross(ua, case, ConfirmReceipt(at=now), OLENA, "ReceiptAcknowledged")
        await self.cross(ua, case, AcceptApplication(at=now), OLENA, "ApplicationAccepted")
        plan = ScheduleTransfer(
            at=now, on=now + timedelta(days=3), bcp="Medyka-Shehyni", mode="land"
        )
        await self.cross(pl, case, plan, ANNA, "TransferScheduled")
        await self.cross(pl, case, CompleteTransfer(at=now), ANNA, "TransferCompleted")
        await self.cross(pl, case, CloseCase(at=now), ANNA, "CaseClosed")
        for node in (pl, ua):
            handle = node.client.get_workflow_handle(case, result_type=CaseOutcome)
            outcome = await handle.result()
            if outcome.status != "closed":
                raise RuntimeError(f"{case} ended {outcome.status} on {node.state}, not closed")


async def _posted(node: FederatedNode, case: str, path: str, user: str) -> None:
    """A command posted to `node`'s API, which must answer 202 (on its way to the other)."""
    answer = await node.http.post(f"/cases/{case}{path}", json={}, headers=node.as_officer(user))
    if answer.status_code != 202:
        raise RuntimeError(
            f"{case}{path}: {node.state} answered {answer.status_code}, not 202: {answer.text}"
        )


async def shown(node: FederatedNode, case: str, user: str, seconds: float = 10.0) -> None:
    """Back once `node`'s API shows `case` to its officer `user`. A receiving node has the case
    once it receipted it, but its API finds the case through its read model, which its
    projector brings up to date a moment later (until then it answers 404, as for a draft)."""
    deadline = time.perf_counter() + seconds
    while (
        answer := await node.http.get(f"/cases/{case}", headers=node.as_officer(user))
    ).status_code != 200:
        if time.perf_counter() > deadline:
            raise RuntimeError(
                f"{case}: {node.state} still answered {answer.status_code} after {seconds:.0f} s"
            )
        await asyncio.sleep(0.01)


async def delivery_latencies(
    nodes: FederatedNodes, cases: int
) -> tuple[dict[str, list[float]], list[float]]:
    """Milliseconds from each crossing command's 202 to its sender having applied the receipt
    (`submit PL → UA`, `accept UA → PL`), and those of the peer's `/health` round trips."""
    pl, ua = nodes["PL"], nodes["UA"]
    found: dict[str, list[float]] = {"submit PL → UA": [], "accept UA → PL": []}
    health: list[float] = []

    async def round_trips() -> None:
        for target in (ua, pl) * HEALTH_SAMPLES:
            started = time.perf_counter()
            answer = await nodes.peer_http.get(f"{target.url}/health")
            health.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(f"{target.state}'s /health answered {answer.status_code}")

    for number in range(LATENCY_FIRST, LATENCY_FIRST + cases):
        case = case_id(number)
        await pl.gateway.open(opening(case, datetime.now(UTC)), ANNA)
        await round_trips()
        for node, path, user, event_type, label in (
            (pl, "/submit", ANNA.user_id, "ApplicationSubmitted", "submit PL → UA"),
            (ua, "/accept", OLENA.user_id, "ApplicationAccepted", "accept UA → PL"),
        ):
            await shown(node, case, user)
            await _posted(node, case, path, user)
            answered = time.perf_counter()  # the clock of `Recorded`
            applied = await node.recorded.wait(case, event_type)
            found[label].append((applied - answered) * 1000)
            await round_trips()
    return found, health


async def measure(
    cases: int,
    seconds: float,
    rounds: int,
    ramps: tuple[float, float] = (2.0, 6.0),
    dsn: str | None = None,
) -> dict[str, Any]:
    """Both measurements: `cases` cases for the latency, then `rounds` rounds of a window of
    `seconds` per installation (after `ramps`: single, federated); on `dsn`, else the
    settings' database."""
    single_ramp, federated_ramp = ramps
    async with (
        federated_nodes(dsn=dsn) as nodes,
        scratch_schema("bench_fsi", dsn) as scratch,
        schema_pool(scratch) as pool,
    ):
        env = nodes.first_env
        prefix = queue_prefix("fsi")
        async with running_workers(env.client, pool, prefix) as root:
            gateway = CaseGateway(env.client, vault=root.vault, signer=SIGNER, queue_prefix=prefix)
            # only its `case`: this bench's baseline is the single installation's lifecycle
            single = Walks(env.client, gateway, trivial_queue=f"{prefix}-unused")
            federated = FederatedWalks(nodes)
            # untimed: the sandbox imports the workflow modules, connections are made
            await asyncio.gather(*(federated.case() for _ in range(2)))
            await asyncio.gather(*(single.case() for _ in range(2)))
            latencies, health = await delivery_latencies(nodes, cases)
            rates: dict[str, list[float]] = {"single": [], "federated": []}
            counts = {"single": 0, "federated": 0}
            for _ in range(rounds):
                for kind, one, ramp in (
                    ("single", single.case, single_ramp),
                    ("federated", federated.case, federated_ramp),
                ):
                    completed = await window(one, seconds, CONCURRENCY, ramp)
                    rates[kind].append(completed / seconds)
                    counts[kind] += completed
    return summary(latencies, health, rates, counts, seconds)


def summary(
    latencies: dict[str, list[float]],
    health: list[float],
    rates: dict[str, list[float]],
    counts: dict[str, int],
    seconds: float,
) -> dict[str, Any]:
    """The summary's rows: p50 and p99 of each crossing against the round trip, and the
    federated lifecycle's rate against the single installation's."""
    metrics: list[dict[str, Any]] = []
    for label, values in latencies.items():
        metrics += latency_metrics(f"202 → receipt applied, {label}", values, health)
    ratios = [f / s if s else 0.0 for f, s in zip(rates["federated"], rates["single"], strict=True)]
    value, baseline = statistics.median(rates["federated"]), statistics.median(rates["single"])
    ratio = statistics.median(ratios)
    metrics.append(
        {
            "name": f"case open → closed over two nodes, {CONCURRENCY} at a time",
            "unit": "cases/s",
            "value": value,
            "baseline": baseline,
            "ratio": ratio,
            "rounds": rates,
            "round_ratios": ratios,
        }
    )
    both = [v for values in latencies.values() for v in values]
    print(
        f"  delivery p50 {statistics.median(both):.0f} ms (health {statistics.median(health):.1f}"
        f" ms); lifecycle {value:.2f} cases/s over two nodes, {baseline:.2f} single ({ratio:.2f});"
        f" {counts['federated']} federated, {counts['single']} single cases"
    )
    return {
        "metrics": metrics,
        "latency_cases": len(both) // max(1, len(latencies)),
        "health_samples": len(health),
        "concurrency": CONCURRENCY,
        "window_seconds": seconds,
        "completed": counts,
    }


async def run(quick: bool) -> dict[str, Any]:
    if quick:
        return await measure(cases=10, seconds=6.0, rounds=1)
    return await measure(cases=40, seconds=10.0, rounds=2)
