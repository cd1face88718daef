"""The API under load: 50 concurrent clients for 60 s (quick: 10 s) over real HTTP.

The real stack, each part in its own process as an operator runs it: `readmit api` (uvicorn,
the app factory), `readmit worker` for the case queue and the PL and UA queues, the Temporal dev
server, PostgreSQL in a scratch schema. Each client loops over a mix of reads (the case list,
the dashboard's filtered lists, one case's detail) and commands (it walks its own case: open,
submit, receipt, accept, transfer scheduled, transferred, closed, each with an Idempotency-Key).
The baseline is an authenticated trivial route (`GET /agreements`: same token check, same
middleware, an in-memory answer) drawn in the same mix, so it is measured under the same load:
ratio = baseline / value. Any answer other than the expected 2xx, and any request taking over
15 s, is an error; there must be none (if there are, the processes' logs are kept in
bench/results/api_load-logs/).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from adapters.temporal.codec import Keyring
from api.auth import issue_dev_token
from bench._support import (
    Scratch,
    dev_server,
    latency_metrics,
    queue_prefix,
    readmit_process,
    scratch_schema,
)
from readmit.embedded_temporal import free_port

CLIENTS = 50
SECRET = "bench-secret-api-load-0123456789abcdef"
WARM_UP = 3.0
REQUEST_TIMEOUT = 15.0  # seconds; a request still unanswered then counts as an error
LOGS_KEPT = Path(__file__).parent / "results" / "api_load-logs"
# (kind, weight): what one client does next
MIX = [("baseline", 10), ("list", 20), ("dashboard", 15), ("detail", 20), ("command", 35)]
STEPS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("/submit", "anna", {}),
    ("/receipt", "olena", {}),
    ("/accept", "olena", {}),
    ("/transfer", "anna", None),  # body filled with the transfer date
    ("/transfer/complete", "anna", {}),
    ("/close", "anna", {}),
]
OPEN = {
    "agreement": "EU-UA",
    "requested": "UA",
    "category": "own_national",
    "person": {"surname": "Shevchenko", "given_names": "Oleksandr", "birth_date": "1990-05-17"},
    "evidence": [{"kind": "passport", "number": "FA123456"}],
}
DASHBOARDS: list[tuple[str, dict[str, str | list[str]]]] = [
    ("olena", {"side": "requested", "status": "received"}),
    ("anna", {"overdue": "true"}),
    ("anna", {"side": "requesting", "status": ["accepted", "transfer_scheduled"]}),
]


@dataclass
class Tally:
    """Latencies (ms) by kind of request, and the errors seen, with a few samples."""

    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def add(self, kind: str, ms: float) -> None:
        self.times.setdefault(kind, []).append(ms)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.samples) < 10:
            self.samples.append(f"{kind}: {detail[:300]}")


class Client:
    """One simulated user session: reads at random and walks its own case step by step."""

    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str], known: list[str]) -> None:
        self.http, self.known = http, known
        self.headers = {who: {"Authorization": f"Bearer {t}"} for who, t in tokens.items()}
        self.case: str | None = None
        self.step = 0
        self.rng = random.Random()

    async def one(self) -> tuple[str, str | None]:
        """One request of a kind drawn from `MIX`: the kind, and what went wrong (None if the
        expected status came back)."""
        kind = self.rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        if kind == "detail" and not self.known:
            kind = "list"
        if kind == "command" and self.case is None:
            kind = "open"
        try:
            answer, expected = await self._send(kind)
        except httpx.HTTPError as error:
            return kind, f"{type(error).__name__} {error}"
        if answer.status_code != expected:
            return kind, f"{answer.status_code} {answer.text}"
        return kind, None

    async def _send(self, kind: str) -> tuple[httpx.Response, int]:
        match kind:
            case "baseline":
                return await self.http.get("/agreements", headers=self.headers["anna"]), 200
            case "list":
                return await self.http.get("/cases", headers=self.headers["anna"]), 200
            case "dashboard":
                who, params = self.rng.choice(DASHBOARDS)
                return await self.http.get("/cases", params=params, headers=self.headers[who]), 200
            case "detail":
                case = self.rng.choice(self.known[-500:])
                return await self.http.get(f"/cases/{case}", headers=self.headers["olena"]), 200
            case "open":
                return await self._open(), 201
            case _:
                return await self._step(), 200

    async def _open(self) -> httpx.Response:
        knowledge = (datetime.now(UTC) - timedelta(days=2)).isoformat()
        answer = await self.http.post(
            "/cases",
            json={**OPEN, "knowledge_at": knowledge},
            headers={**self.headers["anna"], "Idempotency-Key": str(uuid.uuid4())},
        )
        if answer.status_code == 201:
            self.case, self.step = answer.json()["case_id"], 0
        return answer

    async def _step(self) -> httpx.Response:
        """The next command of this client's case; after the last one, a new case is opened."""
        path, who, body = STEPS[self.step]
        case = self.case
        assert case is not None  # `one` opens a case first
        if body is None:
            on = (datetime.now(UTC) + timedelta(days=3)).isoformat()
            body = {"on": on, "bcp": "Medyka-Shehyni", "mode": "land"}
        headers = {**self.headers[who], "Idempotency-Key": str(uuid.uuid4())}
        answer = await self.http.post(f"/cases/{case}{path}", json=body, headers=headers)
        if answer.status_code == 200:
            if path == "/submit":  # the requested state sees a case once it is submitted
                self.known.append(case)
            self.step += 1
            if self.step == len(STEPS):
                self.case = None
        return answer


async def load(base_url: str, tokens: dict[str, str], seconds: float) -> Tally:
    """`CLIENTS` sessions for `WARM_UP` + `seconds`; only requests started after the warm-up
    are measured."""
    tally, known = Tally(), list[str]()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT) as http:
        started = time.perf_counter()
        measure_from, stop_at = started + WARM_UP, started + WARM_UP + seconds

        async def session() -> None:
            client = Client(http, tokens, known)
            while (began := time.perf_counter()) < stop_at:
                kind, detail = await client.one()
                ms = (time.perf_counter() - began) * 1000
                if began >= measure_from:
                    if detail is None:
                        tally.add(kind, ms)
                    else:
                        tally.error(kind, detail)

        await asyncio.gather(*(session() for _ in range(CLIENTS)))
    return tally


@contextlib.asynccontextmanager
async def stack(scratch: Scratch, keyring_json: str, logs: Path) -> AsyncIterator[str]:
    """Dev server, `readmit worker` and `readmit api`; yields the API's base URL once ready."""
    async with (
        dev_server(Keyring.from_encoded(json.loads(keyring_json), "bench")) as env,
        api_on(env, scratch, keyring_json, logs) as base_url,
    ):
        yield base_url


@contextlib.asynccontextmanager
async def api_on(
    env: WorkflowEnvironment, scratch: Scratch, keyring_json: str, logs: Path
) -> AsyncIterator[str]:
    """`readmit worker` and `readmit api` on the dev server `env`; yields the API's base URL
    once ready (the officer-command bench adds its own baseline worker to the same server)."""
    port = free_port()
    env_vars = {
        "READMIT_ENV": "development",
        # a load test writes faster than any officer: the API's own limits stay out of it
        "READMIT_RATE_LIMIT_WRITES": "",
        "READMIT_RATE_LIMIT_WRITES_PER_PRINCIPAL": "",
        "DATABASE_URL": scratch.schema_dsn,
        "READMIT_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "READMIT_QUEUE_PREFIX": queue_prefix("api"),
        "READMIT_PAYLOAD_KEYS": keyring_json,
        "READMIT_PAYLOAD_KEY_ID": "bench",
        "READMIT_MASTER_KEYS": json.dumps({"bench-master": Keyring.new_key()}),
        "READMIT_JWT_SECRET": SECRET,
        "READMIT_NOTIFY_CHANNELS": '["inbox"]',  # no SMTP or webhook peer on this machine
        "READMIT_LOG_LEVEL": "WARNING",
    }
    worker = ["worker", "--state", "PL", "--state", "UA"]
    api = ["api", "--host", "127.0.0.1", "--port", str(port)]
    with (
        readmit_process(worker, env_vars, logs / "worker.log"),
        readmit_process(api, env_vars, logs / "api.log"),
    ):
        base_url = f"http://127.0.0.1:{port}"
        await wait_ready(base_url, logs)
        yield base_url


async def wait_ready(base_url: str, logs: Path, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.3)
    tail = (logs / "api.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"the API did not become ready within {within:.0f} s:\n{tail}")


async def run(quick: bool) -> dict[str, Any]:
    seconds = 10.0 if quick else 60.0
    shutil.rmtree(LOGS_KEPT, ignore_errors=True)  # those of an earlier run would mislead
    keyring_json = json.dumps({"bench": Keyring.new_key()})
    tokens = {
        "anna": issue_dev_token(SECRET, user="bench.anna", role="officer", state="PL"),
        "olena": issue_dev_token(SECRET, user="bench.olena", role="officer", state="UA"),
    }
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        async with (
            scratch_schema("bench_api") as scratch,
            stack(scratch, keyring_json, Path(tmp)) as url,
        ):
            tally = await load(url, tokens, seconds)
        if tally.errors:  # the processes' own account of what went wrong, kept for reading
            shutil.copytree(tmp, LOGS_KEPT)
    errors = sum(tally.errors.values())
    baseline = tally.times.get("baseline", [])
    if not baseline:
        raise RuntimeError(f"no baseline request succeeded; errors: {tally.samples}")
    metrics: list[dict[str, Any]] = []
    for kind in ("list", "dashboard", "detail", "open", "command"):
        values = tally.times.get(kind, [])
        if values:
            metrics += latency_metrics(kind, values, baseline)
    total = sum(len(v) for v in tally.times.values()) + errors
    metrics.append(
        {"name": "errors", "unit": "requests", "value": errors, "baseline": 0, "ratio": None}
    )
    for m in metrics[:-1]:
        print(f"  {m['name']}: {m['value']:.1f} ms (baseline {m['baseline']:.1f} ms)")
    print(f"  {total:,} requests in {seconds:.0f} s ({total / seconds:.0f}/s), {errors} errors")
    if errors:
        print(f"\n!!! API LOAD: {errors} ERRORS {tally.errors} !!!", file=sys.stderr)
        for sample in tally.samples:
            print(f"!!!   {sample}", file=sys.stderr)
        print(f"!!! the API's and the worker's logs: {LOGS_KEPT}", file=sys.stderr)
    return {
        "metrics": metrics,
        "clients": CLIENTS,
        "load_seconds": seconds,
        "requests": {k: len(v) for k, v in tally.times.items()},
        "requests_per_second": total / seconds,
        "errors": tally.errors,
        "error_samples": tally.samples,
        "target": {"errors": 0, "met": errors == 0},
    }
