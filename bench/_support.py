"""What the Temporal, API and read-model benches share: a scratch schema, the dev server, real
workers, a standard case walked by the gateway, and latency metrics in the summary's shape.

Every helper cleans up after itself (schema dropped, server and workers stopped) even when the
bench fails, so a run leaves no process and no schema behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.case_store import CaseStoreActivities
from adapters.agreements.catalogue import load_catalogue
from adapters.db.migrate import migrate_dsn
from adapters.db.pool import connect, create_pool, quote_ident
from adapters.logs import configure_logging
from adapters.settings import get_settings
from adapters.temporal.binaries import dev_server_path
from adapters.temporal.codec import Keyring, data_converter
from adapters.temporal.command_signing import CommandSigner
from adapters.temporal.search_attributes import register
from domain.agreements import AgreementTerms
from domain.commands import OpenCase
from domain.values import EvidenceItem, Person
from workers.main import CaseStore, ExtraWorker
from workers.root import WorkerRoot, worker_root
from workflows.contracts import Actor

ANNA = Actor(user_id="bench.anna", state="PL", role="officer")
OLENA = Actor(user_id="bench.olena", state="UA", role="officer")
# the key the bench's gateways sign commands with, and its workers accept
SIGNER = CommandSigner.throwaway()
STATES = ("PL", "UA")


@dataclass(frozen=True)
class Scratch:
    """A migrated schema of its own: `dsn` of the server, `schema`, and `schema_dsn` (a DSN
    whose connections search only that schema, for subprocesses and the app)."""

    dsn: str
    schema: str

    @property
    def schema_dsn(self) -> str:
        separator = "&" if "?" in self.dsn else "?"
        return f"{self.dsn}{separator}search_path={self.schema}"


@contextlib.asynccontextmanager
async def scratch_schema(prefix: str, dsn: str | None = None) -> AsyncIterator[Scratch]:
    """A new schema `<prefix>_<random>` with every migration applied, dropped afterwards; on
    `dsn`, else on the settings' database (DATABASE_URL, or the embedded server)."""
    dsn = dsn or get_settings().dsn()
    schema = f"{prefix}_{secrets.token_hex(4)}"
    await migrate_dsn(dsn, schema=schema, create_schema=True)
    try:
        yield Scratch(dsn, schema)
    finally:
        conn = await connect(dsn)
        try:
            await conn.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def schema_pool(scratch: Scratch, size: int = 20) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(scratch.dsn, schema=scratch.schema, min_size=2, max_size=size)
    try:
        yield pool
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def dev_server(keyring: Keyring) -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal dev server (in memory, real clock) with the application's data converter."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_path()),
        data_converter=data_converter(keyring),
        dev_server_log_level="error",
    )
    await register(env.client)  # the case workflows' search attributes
    try:
        yield env
    finally:
        await env.shutdown()


def new_keyring() -> Keyring:
    return Keyring.from_encoded({"bench": Keyring.new_key()}, "bench")


@contextlib.asynccontextmanager
async def running_workers(
    client: Client,
    pool: asyncpg.Pool,
    prefix: str,
    *,
    serve_cases: bool = True,
    sandbox: bool | None = None,
    case_store: CaseStore = CaseStoreActivities,
    extra_workers: Sequence[ExtraWorker] = (),
) -> AsyncIterator[WorkerRoot]:
    """The workers of `workers.root` for `STATES` on `pool` (commits by `case_store`, plus the
    bench's `extra_workers`), running in this process until the block ends, then shut down
    gracefully. Case data keys are wrapped by a throwaway master key (the bench's cases die
    with its schema), and commands are signed by the throwaway `SIGNER`. Only warnings are
    logged meanwhile: the summary table, not the workers' lines, on screen."""
    configure_logging("WARNING")
    async with (
        worker_root(
            get_settings(),
            STATES,
            serve_cases=serve_cases,
            background=False,
            client=client,
            pool=pool,
            master=Keyring({"bench": os.urandom(32)}, "bench", what="master"),
            verifier=SIGNER.verifier(),
            queue_prefix=prefix,
            sandbox=sandbox,
            case_store=case_store,
            extra_workers=extra_workers,
        ) as root,
        root.running(),
    ):
        yield root


def queue_prefix(tag: str) -> str:
    return f"{tag}{secrets.token_hex(3)}"


def case_id(counter: int) -> str:
    """A case id of the `ReadmissionCase` pattern, unique per bench run."""
    return f"PL-UA-2027-{counter:06d}"


@functools.cache
def standard_terms() -> AgreementTerms:
    """EU-UA between PL and UA, read once (as the API's catalogue is, per process)."""
    return load_catalogue().terms("EU-UA", "PL", "UA")


def opening(case: str, now: datetime) -> OpenCase:
    """Opening a standard PL → UA case under EU-UA; the workflow stamps the real instant."""
    return OpenCase(
        at=now,
        case_id=case,
        terms=standard_terms(),
        category="own_national",
        person=Person(surname="Shevchenko", given_names="Oleksandr", birth_date=date(1990, 5, 17)),
        evidence=(EvidenceItem(kind="passport", number="FA123456"),),
        knowledge_at=now - timedelta(days=2),
    )


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency_metrics(
    name: str, values_ms: Sequence[float], baseline_ms: Sequence[float]
) -> list[dict[str, Any]]:
    """p50 and p99 rows of a latency sample; ratio = baseline / value (1.0 = as fast)."""
    rows = []
    for label, share in (("p50", 0.5), ("p99", 0.99)):
        value, baseline = percentile(values_ms, share), percentile(baseline_ms, share)
        rows.append(
            {
                "name": f"{name} {label}",
                "unit": "ms",
                "value": value,
                "baseline": baseline,
                "ratio": baseline / value if value else None,
                "samples": len(values_ms),
            }
        )
    return rows


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the bench dies (Linux), so nothing is left."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def readmit_process(args: Sequence[str], env: dict[str, str], log: Path) -> Iterator[None]:
    """`readmit <args>` in its own process, output to `log`; SIGTERM (then SIGKILL) at the end."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "readmit.cli.main", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
