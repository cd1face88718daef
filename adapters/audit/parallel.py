"""Bulk `audit verify` spread over processes: replay is CPU-bound Python, so one process uses
one core however many `Replayer`s it runs.

`ProcessVerifier` has the `run(case_ids, on_report)` and `checkpoint` of `Verifier`, so
`verify_cases` drives either. It hands consecutive chunks of case ids (ranges of the ordered
stream ids) to `jobs` worker processes, each with its own pool, Temporal client and `Verifier`
built from a `Recipe` (picklable: no connections, no key objects), and reports each case as
its chunk comes back; the command sorts what it prints, so the output does not depend on which
process finished first. Workers are spawned, not forked: the parent's event loop and Temporal
runtime threads must not be copied. A worker's failure (a server or database outage) raises in
the parent, as it would in one process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterable, Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from temporalio.client import Client

from adapters.audit.checkpoint import Checkpoint
from adapters.audit.verify import CaseVerification, Verifier, batches
from adapters.db.eventstore import EventStore
from adapters.db.pool import create_pool
from adapters.keys import payload_keyring
from adapters.settings import get_settings
from adapters.temporal.client import connect_arguments
from adapters.temporal.codec import Keyring, data_converter
from adapters.temporal.runtime import install_runtime


@dataclass(frozen=True)
class Recipe:
    """How a worker process builds its `Verifier`. `keys`/`active_key` (base64 keys by id) stand
    in for the settings' payload keyring when given (benches and tests own their keys)."""

    dsn: str
    address: str
    schema: str | None = None
    keys: Mapping[str, str] | None = None
    active_key: str = ""
    checkpoint: Checkpoint | None = None
    sandbox: bool = False
    batch_size: int = 100
    fetch_concurrency: int = 16


_worker: tuple[asyncio.AbstractEventLoop, Verifier] | None = None  # one per worker process


def _start(recipe: Recipe) -> None:
    """A worker process's initializer: its loop, pool, client and verifier, kept for its chunks."""
    global _worker
    install_runtime("ERROR")
    loop = asyncio.new_event_loop()
    verifier = loop.run_until_complete(_build(recipe))
    _worker = (loop, verifier)


async def _build(recipe: Recipe) -> Verifier:
    settings = get_settings()
    keyring = (
        payload_keyring(settings)
        if recipe.keys is None
        else Keyring.from_encoded(recipe.keys, recipe.active_key)
    )
    converter = data_converter(keyring)
    pool = await create_pool(recipe.dsn, schema=recipe.schema, min_size=1, max_size=4)
    client = await Client.connect(
        **connect_arguments(settings, recipe.address), data_converter=converter
    )
    return Verifier(
        EventStore(pool),
        client,
        converter,
        batch_size=recipe.batch_size,
        fetch_concurrency=recipe.fetch_concurrency,
        checkpoint=recipe.checkpoint,
        sandbox=recipe.sandbox,
    )


def _verify(case_ids: list[str]) -> list[CaseVerification]:
    assert _worker is not None, "not a worker process"
    loop, verifier = _worker
    return loop.run_until_complete(verifier.verify_many(case_ids))


@dataclass
class ProcessVerifier:
    recipe: Recipe
    jobs: int = 2
    chunk: int = 200  # cases per hand-over: large enough to keep a worker's pipeline full

    @property
    def checkpoint(self) -> Checkpoint | None:
        return self.recipe.checkpoint

    async def run(
        self, case_ids: AsyncIterable[str], on_report: Callable[[CaseVerification], None]
    ) -> None:
        """As `Verifier.run`, with at most two chunks per worker in flight."""
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            self.jobs, mp_context=context, initializer=_start, initargs=(self.recipe,)
        ) as processes:
            pending: set[asyncio.Future[list[CaseVerification]]] = set()

            async def settle(when: str) -> None:
                nonlocal pending
                done, pending = await asyncio.wait(pending, return_when=when)
                for finished in done:
                    for report in finished.result():
                        on_report(report)

            try:
                async for chunk in batches(case_ids, self.chunk):
                    if len(pending) >= 2 * self.jobs:
                        await settle(asyncio.FIRST_COMPLETED)
                    submitted: Future[list[CaseVerification]] = processes.submit(_verify, chunk)
                    pending.add(asyncio.wrap_future(submitted))
                while pending:
                    await settle(asyncio.FIRST_COMPLETED)
            finally:
                for future in pending:
                    future.cancel()
