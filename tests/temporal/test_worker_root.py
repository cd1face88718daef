"""The worker composition root's lifecycle: a part that ends on its own (a loop that raised or
returned; a worker's fatal error takes the same path) ends the whole process, after the rest
shut down gracefully and with one log line that carries no personal data; the simulator's root
is sandboxed and small whatever the settings say."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import structlog
from temporalio.testing import WorkflowEnvironment
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import readmit.simulate.runner as simulate_runner
from adapters.agreements.catalogue import load_catalogue
from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings
from adapters.temporal.binaries import dev_server_path
from readmit.simulate.scenario import load_scenario
from workers.root import Loop, PartStopped, WorkerRoot, worker_root

pytestmark = pytest.mark.temporal
SCENARIOS = Path(__file__).parent.parent / "fixtures" / "scenarios"


class ProjectionBroke(Exception):
    pass


@contextlib.asynccontextmanager
async def root_with(
    env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault, *loops: Loop
) -> AsyncIterator[WorkerRoot]:
    """The case and PL workers of `worker_root`, beside `loops` in place of the real ones."""
    async with worker_root(
        Settings(),
        ["PL"],
        background=False,
        client=env.client,
        pool=pool,
        master=vault.master,
        queue_prefix="lifecycle",
        sandbox=False,
    ) as built:
        yield WorkerRoot(built.pool, built.vault, built.workers, list(loops))


class Recorded:
    """A well-behaved loop: runs until told to stop, and says whether it was."""

    def __init__(self) -> None:
        self.stopped = False

    async def follow(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.stopped = True


async def test_a_loop_that_raises_ends_run_with_its_error_after_a_graceful_shutdown(
    time_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault
) -> None:
    other = Recorded()

    async def broken(stop: asyncio.Event) -> None:
        await asyncio.sleep(0.3)  # the workers are polling by now
        raise ProjectionBroke("surname Shevchenko cannot be projected")

    async with root_with(time_env, pool, vault, broken, other.follow) as root:
        stop = asyncio.Event()  # never set: only the failure can end `run`
        with structlog.testing.capture_logs() as logs, pytest.raises(ProjectionBroke):
            await asyncio.wait_for(root.run(stop), timeout=30)
        assert all(w.is_shutdown for w in root.workers)
        assert other.stopped  # the other loop was told to stop, not abandoned
    (failure,) = [line for line in logs if line["log_level"] == "error"]
    assert failure["part"].endswith("broken")
    assert failure["error_type"] == "ProjectionBroke"
    assert "Shevchenko" not in repr(logs)


async def test_a_loop_that_returns_on_its_own_ends_run_too(
    time_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault
) -> None:
    async def gave_up(stop: asyncio.Event) -> None:
        return None

    async with root_with(time_env, pool, vault, gave_up) as root:
        with pytest.raises(PartStopped, match="gave_up stopped on its own"):
            await asyncio.wait_for(root.run(asyncio.Event()), timeout=30)
        assert all(w.is_shutdown for w in root.workers)


async def test_stop_ends_run_quietly(
    time_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault
) -> None:
    other = Recorded()
    async with root_with(time_env, pool, vault, other.follow) as root:
        stop = asyncio.Event()
        running = asyncio.create_task(root.run(stop))
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.wait_for(running, timeout=30)
        assert other.stopped and all(w.is_shutdown for w in root.workers)


async def test_the_simulator_runs_sandboxed_on_a_small_pool(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def observed(*args: Any, **kwargs: Any) -> AsyncIterator[WorkerRoot]:
        async with worker_root(*args, **kwargs) as root:
            seen["runners"] = [w.config()["workflow_runner"] for w in root.workers]
            seen["pool"] = (root.pool.get_min_size(), root.pool.get_max_size())
            yield root

    monkeypatch.setattr(simulate_runner, "worker_root", observed)
    scenario = load_scenario(SCENARIOS / "refused.yaml")
    terms = load_catalogue().terms("EU-UA", "PL", "UA", "PL")
    settings = Settings(workflow_sandbox=False)  # as production workers run
    report = await simulate_runner.simulate(scenario, terms, settings, database_url)
    assert report["status"] == "closed"  # refused, then closed by itself
    assert report["events"][-1]["outcome"] == "refused"
    assert isinstance(seen["runners"][0], SandboxedWorkflowRunner)  # the case queue's worker
    assert seen["pool"] == (1, 10)


async def test_the_worker_command_exits_1_with_one_line_when_a_worker_fails(
    schema_dsn: str,
) -> None:
    """`python -m workers` whose worker the server refuses (no such namespace: it fails on its
    first call, once running) stops, prints one line and exits 1 instead of staying up."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_path()), dev_server_log_level="error"
    ) as env:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("READMIT_")}
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "workers", "--state", "PL", "--no-cases"],
            capture_output=True,
            text=True,
            timeout=60,
            env=clean
            | {
                "DATABASE_URL": schema_dsn,
                "READMIT_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
                "READMIT_TEMPORAL_NAMESPACE": "no-such-namespace",
                "READMIT_ENV": "development",  # the dev keys under home will do
                "READMIT_LOG_LEVEL": "CRITICAL",
            },
        )
    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("readmit: the worker stopped: RuntimeError: "), line
    assert "no-such-namespace" in line, line
