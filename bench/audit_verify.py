"""Bulk `audit verify`: cases verified per second, against reading what it verifies.

Setup (untimed): an in-memory Temporal dev server, a scratch PostgreSQL schema and N cases
(full: 1,000, quick: 100), each opened and submitted through the gateway by real workers
(run unsandboxed, to keep the setup short: the histories are the same), left running.

- **bulk verify**: `readmit audit verify --all` minus its composition root (`verify_cases`, the
  function behind the command): hash chains recomputed, every history fetched, its append inputs
  decrypted and compared with the store, and replayed unsandboxed by four `Replayer`s (the
  command's default). Before issue 18 (one sandboxed `Replayer`) the ratio was about 0.09 on the
  full run (0.05 with `--quick`); the issue's target is 0.3.
  The baseline is the I/O alone on the same cases in the same run: the streams read in the same
  batches and queries, the histories fetched with the same concurrency, nothing hashed, decoded
  or replayed. The ratio says how much of the verifier's time is its own work.
- **sandboxed**: the same with one sandboxed `Replayer`, as before issue 18 (`--sandbox` keeps
  the sandbox), against the default bulk rate.
- **one case per call**: `Verifier.verify(case)` for each of 50 cases in turn (a new `Replayer`
  and no overlap of I/O and replay per case, as `audit verify CASE` does), against the bulk rate.
- **against a checkpoint**: `audit verify --all --checkpoint FILE` minus its composition root: a
  checkpoint of the cases taken once (untimed), then in each round the file read and its
  signature and Merkle root checked, the lost cases looked up, and the bulk verify with every
  case checked against its anchored head (`--full`), against the bulk rate without a checkpoint.
- **since a checkpoint**: the same without `--full`, the command's default: a tenth of the cases
  moved on (one more event each) after the checkpoint, so only they are verified and the rest
  are skipped by their signed heads; against the `--full` rate.

Alternating rounds, medians. Replay is CPU-bound: on a shared 2-core machine compare the ratios
of one run, not rates across runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client

from adapters.audit.checkpoint import read_checkpoint, take_checkpoint
from adapters.audit.unchanged import unchanged_since, without
from adapters.audit.verify import Verifier, with_lost_streams
from adapters.db.event_queries import count_events, read_streams, stream_ids
from adapters.db.eventstore import EventStore
from adapters.temporal.cases import CaseGateway
from adapters.temporal.codec import data_converter
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
from domain.commands import ConfirmReceipt, SubmitApplication
from readmit.cli.audit_verify import verify_cases

SIGNING_KEY = Ed25519PrivateKey.generate()

ONE_BY_ONE = 50
BATCH = 100
FETCHES = 16
BEFORE = 0.09  # bulk/read before issue 18 (one sandboxed Replayer), full run
TARGET = 0.3  # issue 18


async def create_cases(gateway: CaseGateway, count: int, concurrency: int = 32) -> None:
    numbers = iter(range(1, count + 1))

    async def lane() -> None:
        for number in numbers:
            case, now = case_id(number), datetime.now(UTC)
            await gateway.open(opening(case, now), ANNA, request_id=f"open-{case}")
            await gateway.execute(case, SubmitApplication(at=now), ANNA)

    await asyncio.gather(*(lane() for _ in range(concurrency)))


async def bulk_round(verifier: Verifier, pool: asyncpg.Pool, total: int) -> float:
    started = time.perf_counter()
    out, err = io.StringIO(), io.StringIO()
    code = await verify_cases(verifier, stream_ids(pool), total, out=out, err=err)
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"bulk verify failed: {out.getvalue()[-500:]}")
    return total / seconds


async def anchored_round(
    verifier: Verifier, pool: asyncpg.Pool, data: bytes, total: int, *, full: bool = True
) -> float:
    """`bulk_round` against the checkpoint in `data`, its reading and checking included; without
    `full`, the cases it covers unchanged skipped, as the command does by default."""
    started = time.perf_counter()
    checkpoint = read_checkpoint(data, SIGNING_KEY.public_key())
    anchored = dataclasses.replace(verifier, checkpoint=checkpoint)
    ids, count, skipped = stream_ids(pool), total, set[str]()
    if not full:
        skipped = await unchanged_since(pool, checkpoint)
        ids, count = without(ids, skipped), total - len(skipped)
    ids, lost = await with_lost_streams(anchored.store, ids, checkpoint)
    out, err = io.StringIO(), io.StringIO()
    code = await verify_cases(anchored, ids, count + lost, out=out, err=err, skipped=len(skipped))
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"verify against the checkpoint failed: {out.getvalue()[-500:]}")
    return total / seconds


async def read_round(client: Client, pool: asyncpg.Pool, total: int) -> float:
    """The baseline: what the verifier reads, read the same way, and nothing else."""
    fetching = asyncio.Semaphore(FETCHES)

    async def fetch(case: str) -> None:
        async with fetching:
            await client.get_workflow_handle(case).fetch_history()

    async def read(batch: list[str]) -> int:
        await read_streams(pool, batch)
        await asyncio.gather(*(fetch(case) for case in batch))
        return len(batch)

    started = time.perf_counter()
    done, batch = 0, []
    async for case in stream_ids(pool):
        batch.append(case)
        if len(batch) == BATCH:
            done, batch = done + await read(batch), []
    done += await read(batch) if batch else 0
    seconds = time.perf_counter() - started
    if done != total:
        raise RuntimeError(f"read {done} cases, expected {total}")
    return total / seconds


async def one_by_one_round(verifier: Verifier, count: int) -> float:
    started = time.perf_counter()
    for number in range(1, count + 1):
        report = await verifier.verify(case_id(number))
        if not report.ok:
            raise RuntimeError(f"{report.case_id} failed: {report.as_dict()}")
    return count / (time.perf_counter() - started)


async def run(quick: bool) -> dict[str, Any]:
    cases, rounds = (100, 1) if quick else (1000, 2)
    keyring = new_keyring()
    async with (
        scratch_schema("bench_av") as scratch,
        schema_pool(scratch) as pool,
        dev_server(keyring) as env,
    ):
        prefix, store = queue_prefix("av"), EventStore(pool)
        # unsandboxed: the same histories at a third of the CPU
        async with running_workers(env.client, pool, prefix, sandbox=False) as root:
            setup = time.perf_counter()
            gateway = CaseGateway(env.client, vault=root.vault, signer=SIGNER, queue_prefix=prefix)
            await create_cases(gateway, cases)
            checkpoint = (await take_checkpoint(pool, SIGNING_KEY)).data
            for number in range(1, cases + 1, 10):  # a tenth moves on after the checkpoint
                await gateway.execute(case_id(number), ConfirmReceipt(at=datetime.now(UTC)), OLENA)
            await asyncio.sleep(2)  # let what the receipts start be recorded before workers stop
            print(f"  created {cases} cases in {time.perf_counter() - setup:.0f} s", flush=True)
        events = await count_events(pool)
        verifier = Verifier(
            store,
            env.client,
            data_converter(keyring),
            batch_size=BATCH,
            fetch_concurrency=FETCHES,
        )
        before = dataclasses.replace(verifier, sandbox=True, replayers=1)
        await one_by_one_round(verifier, 5)  # untimed: imports, connections
        await one_by_one_round(before, 5)  # untimed: sandbox imports
        bulk: list[float] = []
        reads: list[float] = []
        singles: list[float] = []
        anchored: list[float] = []
        since: list[float] = []
        sandboxed: list[float] = []
        for _ in range(rounds):
            reads.append(await read_round(env.client, pool, cases))
            bulk.append(await bulk_round(verifier, pool, cases))
            sandboxed.append(await bulk_round(before, pool, cases))
            anchored.append(await anchored_round(verifier, pool, checkpoint, cases))
            since.append(await anchored_round(verifier, pool, checkpoint, cases, full=False))
            singles.append(await one_by_one_round(verifier, min(ONE_BY_ONE, cases)))
    value, baseline = statistics.median(bulk), statistics.median(reads)
    single, against = statistics.median(singles), statistics.median(anchored)
    old, skipping = statistics.median(sandboxed), statistics.median(since)
    print(
        f"  bulk verify {value:,.1f} cases/s, reading alone {baseline:,.1f} cases/s "
        f"({value / baseline:.2f}; before issue 18 about {BEFORE:.2f}, target {TARGET:.1f}); "
        f"one sandboxed Replayer {old:,.1f} cases/s ({old / baseline:.2f}); "
        f"against a checkpoint {against:,.1f} cases/s (--full), {skipping:,.1f} cases/s "
        f"(covered cases skipped); one case per call {single:,.1f} cases/s"
    )
    return {
        "metrics": [
            {
                "name": f"audit verify --all, {cases} cases",
                "unit": "cases/s",
                "value": value,
                "baseline": baseline,
                "ratio": value / baseline,
                "rounds": {"verify": bulk, "read only": reads},
                "before": BEFORE,
                "target": {"ratio": TARGET, "met": value / baseline >= TARGET},
            },
            {
                "name": f"audit verify --all, one sandboxed Replayer, {cases} cases",
                "unit": "cases/s",
                "value": old,
                "baseline": value,
                "ratio": old / value,
                "rounds": {"sandboxed": sandboxed, "bulk": bulk},
            },
            {
                "name": f"audit verify --all --checkpoint (a tenth moved), {cases} cases",
                "unit": "cases/s",
                "value": skipping,
                "baseline": against,
                "ratio": skipping / against,
                "rounds": {"covered skipped": since, "--full": anchored},
            },
            {
                "name": f"audit verify --all --checkpoint --full, {cases} cases",
                "unit": "cases/s",
                "value": against,
                "baseline": value,
                "ratio": against / value,
                "rounds": {"with checkpoint": anchored, "bulk": bulk},
            },
            {
                "name": "audit verify, one case per call",
                "unit": "cases/s",
                "value": single,
                "baseline": value,
                "ratio": single / value,
                "rounds": {"one by one": singles, "bulk": bulk},
            },
        ],
        "cases": cases,
        "events": events,
        "batch_size": BATCH,
        "fetch_concurrency": FETCHES,
    }
