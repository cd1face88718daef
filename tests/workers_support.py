"""Real workers for tests, as every test folder starts them: the composition root
`workers.root.worker_root` on the test's client and pool, running in the test's event loop until
the block ends. Importable from any test folder (tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import asyncpg
from temporalio.client import Client

from adapters.keys import command_signer
from adapters.settings import Settings
from adapters.temporal.codec import Keyring
from adapters.temporal.command_signing import CommandSigner
from workers.root import WorkerRoot, worker_root


def signer(settings: Settings | None = None) -> CommandSigner:
    """The key the API signs commands with under `settings` (default: the environment's),
    whose signatures the workers of `running_workers` with the same settings accept."""
    return command_signer(settings or Settings())


@contextlib.asynccontextmanager
async def running_workers(
    client: Client,
    pool: asyncpg.Pool,
    states: Sequence[str],
    *,
    settings: Settings | None = None,
    master: Keyring | None = None,
    queue_prefix: str | None = None,
    sandbox: bool = True,
) -> AsyncIterator[WorkerRoot]:
    """The case queue's workers and `states`' queues' workers on `client` and `pool` (kept
    open), sandboxed unless `sandbox=False`, without the background loops (tests run the
    projector and the dispatcher themselves). `settings` (default: the environment's) give
    the queue prefix and the master key unless `queue_prefix` and `master` do. The workers
    shut down gracefully when the block ends; a worker that failed meanwhile fails it."""
    async with (
        worker_root(
            settings or Settings(),
            states,
            background=False,
            client=client,
            pool=pool,
            master=master,
            queue_prefix=queue_prefix,
            sandbox=sandbox,
        ) as root,
        root.running(),
    ):
        yield root
