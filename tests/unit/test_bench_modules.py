"""The bench runner finds every bench module and each exposes `run(quick)`; the read-model
bench runs for real on its --quick table, and the overdue lists are read in the order of the
listing index (migration 0005), never sorted."""

from __future__ import annotations

import importlib
import inspect

import pytest

from bench.__main__ import bench_modules
from bench.read_model import measure

EXPECTED = {"api_load", "deadline_precision", "event_store", "lifecycle", "read_model"}


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
    assert names == [f"{q} {p}" for q in result["plans"] for p in ("p50", "p99")]
    assert all(m["value"] > 0 and m["baseline"] > 0 for m in result["metrics"])
    for plan in result["plans"].values():
        assert "Index Scan using cases_list_order" in plan, plan
        assert "Sort" not in plan, plan
