"""The bench runner finds every bench module and each exposes `run(quick)`; the read-model
bench runs for real on its --quick table, and the overdue lists are read in the order of the
listing index (migration 0005), never sorted; the federation bench walks a case over two real
nodes and times its crossings, and its summary pairs each figure with its baseline; the
officer-command bench times one case's commands through the real API (issue 18)."""

from __future__ import annotations

import importlib
import inspect
import statistics

import pytest

from adapters.federation.store import ExchangeStore
from bench.__main__ import bench_modules
from bench._federation import federated_nodes
from bench.federation import (
    CONCURRENCY,
    HEALTH_SAMPLES,
    FederatedWalks,
    delivery_latencies,
    summary,
)
from bench.officer_command import TIMED
from bench.officer_command import measure as officer_commands
from bench.read_model import DASHBOARD, STATISTICS, measure

EXPECTED = {
    "api_load",
    "deadline_precision",
    "event_store",
    "federation",
    "lifecycle",
    "officer_command",
    "person_search",
    "read_model",
}


def test_every_bench_is_discovered_and_helpers_are_not() -> None:
    found = set(bench_modules([]))
    assert found >= EXPECTED
    assert not {name for name in found if name.startswith("_")}
    assert "machine" not in found


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bench_exposes_an_async_run_taking_quick(name: str) -> None:
    run = importlib.import_module(f"bench.{name}").run
    assert inspect.iscoroutinefunction(run)
    assert list(inspect.signature(run).parameters) == ["quick"]


def test_an_unknown_bench_name_is_refused() -> None:
    with pytest.raises(SystemExit, match="no such bench module: nope"):
        bench_modules(["nope"])


@pytest.mark.db
async def test_read_model_bench_lists_overdue_cases_through_the_listing_index(
    database_url: str,
) -> None:
    result = await measure(100_000, 5, database_url)  # the --quick table, few timed runs
    assert result["rows"] == 100_000 and 0 < result["overdue"] < 100_000
    names = [m["name"] for m in result["metrics"]]
    listed = [f"{q} {p}" for q in result["plans"] for p in ("p50", "p99")]
    pages = [f"{q} {p}" for q in (DASHBOARD[0], STATISTICS) for p in ("p50", "p99")]
    assert names == listed + pages  # issue 18: the dashboard and the statistics as well
    assert all(m["value"] > 0 and m["baseline"] > 0 for m in result["metrics"])
    for plan in [*result["plans"].values(), result["dashboard_plan"]]:
        assert "Index Scan using cases_list_order" in plan, plan
        assert "Sort" not in plan, plan


def test_the_federation_summary_sets_each_figure_against_its_baseline() -> None:
    latencies = {"submit PL → UA": [100.0, 300.0, 200.0], "accept UA → PL": [50.0, 60.0, 70.0]}
    health = [2.0, 4.0, 3.0]
    rates = {"single": [10.0, 8.0], "federated": [2.0, 2.0]}
    result = summary(latencies, health, rates, {"single": 90, "federated": 20}, 10.0)
    rows = {m["name"]: m for m in result["metrics"]}
    submit = rows["202 → receipt applied, submit PL → UA p50"]
    assert (submit["value"], submit["baseline"]) == (200.0, 3.0)
    assert submit["ratio"] == pytest.approx(3.0 / 200.0)
    assert rows["202 → receipt applied, accept UA → PL p99"]["value"] == 70.0
    lifecycle = rows[f"case open → closed over two nodes, {CONCURRENCY} at a time"]
    assert (lifecycle["value"], lifecycle["baseline"]) == (2.0, 9.0)
    # the median of each round's own ratio, not the ratio of the medians (2 / 9)
    assert lifecycle["round_ratios"] == [0.2, 0.25]
    assert lifecycle["ratio"] == pytest.approx(0.225)


@pytest.mark.db
@pytest.mark.temporal
async def test_federation_bench_walks_a_case_over_two_nodes_and_times_its_crossings(
    database_url: str,
) -> None:
    async with federated_nodes(dsn=database_url) as nodes:
        await FederatedWalks(nodes).case()  # raises unless the case closed on both nodes
        latencies, health = await delivery_latencies(nodes, 2)
        counts = {
            state: sum(r.direction == "out" for r in await ExchangeStore(node.pool).receipts())
            for state, node in nodes.by_state.items()
        }
    # the walk's six crossings (PL sends four, UA two), then one submission and one acceptance
    # per timed case
    assert counts == {"PL": 4 + 2, "UA": 2 + 2}
    assert [len(v) for v in latencies.values()] == [2, 2]
    assert len(health) == 2 * 3 * 2 * HEALTH_SAMPLES  # cases, times per case, directions
    # a crossing (a delivery workflow, a signed message, the peer's case, a signed receipt)
    # costs more than a bare round trip between the nodes
    crossings = [ms for values in latencies.values() for ms in values]
    assert statistics.median(crossings) > statistics.median(health) > 0


@pytest.mark.db
@pytest.mark.temporal
async def test_officer_command_bench_times_each_command_beside_a_trivial_update(
    database_url: str,
) -> None:
    """The real stack (API and worker processes, dev server): one case walked through the API,
    its three timed commands each with a trivial update sampled just before."""
    officer = await officer_commands(1, warm_up=0, dsn=database_url)
    assert {kind: len(officer.times[kind]) for kind in TIMED} == dict.fromkeys(TIMED, 1)
    assert len(officer.times["trivial"]) == len(TIMED)
    assert all(ms > 0 for values in officer.times.values() for ms in values)
