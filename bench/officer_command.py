"""One officer, one command at a time through the API, against a trivial Temporal update.

The real stack as `api_load` starts it (`readmit api` and `readmit worker` in their own
processes, the Temporal dev server, PostgreSQL in a scratch schema), but one request at a time:
what a single officer waits for. Each case is opened (`POST /cases`), submitted by the
requesting state's officer, receipted and accepted by the requested state's officer; the
opening, the submission and the acceptance are timed (the receipt is a step the acceptance
needs, not one of the three). Each command's answer includes the read model caught up, as the
API promises.

The baseline is the floor of any command: a trivial update (`bench_ping`, answered by the
handler at once) on a running workflow of the same dev server, served by a worker in this
process, sent by the Temporal client. One baseline sample is taken just before each timed
command, so both see the same load. Ratio = baseline / value; the issue's target is p99 within
3x the trivial round trip, i.e. a p99 ratio of at least 1/3.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.temporal.codec import Keyring
from api.auth import issue_dev_token
from bench._support import dev_server, latency_metrics, queue_prefix, scratch_schema
from bench._workflows import Updatable
from bench.api_load import OPEN, SECRET, api_on

TARGET_RATIO = 1 / 3  # p99 within 3x the trivial update round trip
TIMED = ("open", "submit", "accept")


@contextlib.asynccontextmanager
async def trivial_updates(env: WorkflowEnvironment) -> AsyncIterator[WorkflowHandle[Any, Any]]:
    """A running `Updatable` workflow on `env`, served by a worker in this process."""
    queue = f"{queue_prefix('oc')}-trivial"
    async with Worker(env.client, task_queue=queue, workflows=[Updatable]):
        handle = await env.client.start_workflow(
            Updatable.run, id=f"bench-updatable-{uuid.uuid4()}", task_queue=queue
        )
        try:
            yield handle
        finally:
            await handle.signal(Updatable.finish)
            await handle.result()


def token(who: str, state: str) -> str:
    return issue_dev_token(SECRET, user=f"bench.{who}", role="officer", state=state)


class Officer:
    """Walks cases one command at a time, timing the commands and the baseline beside them."""

    def __init__(self, http: httpx.AsyncClient, trivial: WorkflowHandle[Any, Any]) -> None:
        self.http, self.trivial = http, trivial
        self.headers = {
            who: {"Authorization": f"Bearer {token(who, state)}"}
            for who, state in (("anna", "PL"), ("olena", "UA"))
        }
        self.times: dict[str, list[float]] = {kind: [] for kind in (*TIMED, "trivial")}

    async def ping(self) -> None:
        began = time.perf_counter()
        await self.trivial.execute_update(Updatable.ping, 1)
        self.times["trivial"].append((time.perf_counter() - began) * 1000)

    async def post(self, kind: str, who: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One command, timed under `kind` (unless None), with the baseline sample before it."""
        if kind in TIMED:
            await self.ping()
        headers = {**self.headers[who], "Idempotency-Key": str(uuid.uuid4())}
        began = time.perf_counter()
        answer = await self.http.post(path, json=body, headers=headers)
        ms = (time.perf_counter() - began) * 1000
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"{kind}: {answer.status_code} {answer.text[:300]}")
        if kind in TIMED:
            self.times[kind].append(ms)
        result: dict[str, Any] = answer.json()
        return result

    async def case(self) -> None:
        knowledge = (datetime.now(UTC) - timedelta(days=2)).isoformat()
        opened = await self.post("open", "anna", "/cases", {**OPEN, "knowledge_at": knowledge})
        path = f"/cases/{opened['case_id']}"
        await self.post("submit", "anna", f"{path}/submit", {})
        await self.post("receipt", "olena", f"{path}/receipt", {})
        await self.post("accept", "olena", f"{path}/accept", {})


async def walk(
    url: str, trivial: WorkflowHandle[Any, Any], cases: int, warm_up: int = 3
) -> Officer:
    """`warm_up` untimed cases (connections, the workers' sandbox, statement caches), then
    `cases` timed ones by one officer pair."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        warm = Officer(http, trivial)
        for _ in range(warm_up):
            await warm.case()
        officer = Officer(http, trivial)
        for _ in range(cases):
            await officer.case()
    return officer


async def measure(cases: int, warm_up: int = 3, dsn: str | None = None) -> Officer:
    """The stack in a scratch schema on `dsn` (else the settings' database), then `walk`."""
    keyring_json = json.dumps({"bench": Keyring.new_key()})
    keyring = Keyring.from_encoded(json.loads(keyring_json), "bench")
    with tempfile.TemporaryDirectory(prefix="bench-oc-") as tmp:
        async with (
            scratch_schema("bench_oc", dsn) as scratch,
            dev_server(keyring) as env,
            api_on(env, scratch, keyring_json, Path(tmp)) as url,
            trivial_updates(env) as trivial,
        ):
            return await walk(url, trivial, cases, warm_up)


async def run(quick: bool) -> dict[str, Any]:
    cases = 20 if quick else 100
    officer = await measure(cases)
    baseline = officer.times["trivial"]
    metrics = [m for kind in TIMED for m in latency_metrics(kind, officer.times[kind], baseline)]
    for m in metrics:
        print(
            f"  {m['name']}: {m['value']:.1f} ms, trivial update {m['baseline']:.1f} ms"
            f" ({m['value'] / m['baseline']:.1f}x)"
        )
    p99s = {m["name"]: m["ratio"] for m in metrics if m["name"].endswith("p99")}
    return {
        "metrics": metrics,
        "cases": cases,
        "target": {
            "p99_ratio_at_least": TARGET_RATIO,
            "met": all(r is not None and r >= TARGET_RATIO for r in p99s.values()),
        },
    }
