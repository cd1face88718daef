"""The queues a worker process polls, as `readmit worker`'s options select them (issue 18):
`--cases-only` builds the case queue's worker alone (Kubernetes' readmit-worker-cases no longer
serves UA's queue too), `--no-cases --state UA` UA's alone, the default the case queue and the
demo set's."""

from __future__ import annotations

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings
from workers.queues import DEFAULT_STATES, select_queues
from workers.root import worker_root

pytestmark = pytest.mark.temporal
PREFIX = "queues"


@pytest.mark.parametrize(
    ("states", "cases", "cases_only", "polled"),
    [
        (None, None, True, ["queues-cases"]),
        (["UA"], False, False, ["queues-state-UA"]),
        (["UA"], None, False, ["queues-cases", "queues-state-UA"]),
        (None, None, False, ["queues-cases", *(f"queues-state-{s}" for s in DEFAULT_STATES)]),
    ],
    ids=["cases-only", "ua-only", "ua-and-cases", "demo-set"],
)
async def test_the_built_workers_poll_exactly_the_selected_queues(
    time_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    vault: PersonalDataVault,
    states: list[str] | None,
    cases: bool | None,
    cases_only: bool,
    polled: list[str],
) -> None:
    selection = select_queues(states, cases=cases, cases_only=cases_only)
    assert selection.task_queues(PREFIX) == polled
    async with worker_root(
        Settings(),
        selection.states,
        serve_cases=selection.cases,
        background=False,
        client=time_env.client,
        pool=pool,
        master=vault.master,
        queue_prefix=PREFIX,
        sandbox=False,
    ) as root:
        assert [w.task_queue for w in root.workers] == polled
