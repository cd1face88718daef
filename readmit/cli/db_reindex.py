"""`readmit db reindex-search`: write the person search's index again under the current key.

Run it after READMIT_SEARCH_KEY changes (every API and worker process restarted with the new
key first) or after a database restore: until it finishes, searches miss the cases not yet
re-indexed. Batches are transactions, so a failure leaves each case fully under the old or the
new key; running it again is harmless. Progress on stderr, a JSON summary on stdout.
"""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from adapters.db.pool import create_pool
from adapters.db.search_reindex import SearchReindexer
from adapters.keys import master_keyring, search_key
from adapters.protection.blind_index import BlindIndex
from adapters.protection.vault import PersonalDataVault
from adapters.settings import ConfigurationError, get_settings
from adapters.temporal.codec import KeyringError
from readmit.cli.common import (
    EXIT_BAD_INPUT,
    DatabaseUrl,
    Schema,
    database_url,
    fail,
    print_json,
    run_on_database,
)
from readmit.cli.progress import job_progress


def reindex_search_command(
    given: DatabaseUrl = None,
    schema: Schema = None,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=10_000, help="cases per transaction")
    ] = 200,
) -> None:
    """Re-index every non-erased case's person under the current search key (after the key
    changes or a restore); prints {"cases", "entries", "seconds"}."""
    settings = get_settings()
    try:
        index = BlindIndex(search_key(settings))
        master = master_keyring(settings)
    except (ConfigurationError, KeyringError, ValueError) as error:
        fail(str(error).splitlines()[0], EXIT_BAD_INPUT)
    dsn = database_url(given)
    started = time.monotonic()

    async def run() -> tuple[int, int]:
        pool = await create_pool(dsn, schema=schema, min_size=1, max_size=4)
        try:
            job = SearchReindexer(pool, PersonalDataVault(pool, master), index)
            total = await job.count()
            with job_progress(sys.stderr, total, "re-indexing persons", "cases") as progress:

                def advance(cases: int) -> None:
                    for _ in range(cases):
                        progress.advance(True)

                done = await job.run(batch=batch, on_batch=advance)
            return done.cases, done.entries
        finally:
            await pool.close()

    cases, entries = run_on_database(run, refusals=(KeyringError,))
    seconds = round(time.monotonic() - started, 3)
    print_json({"cases": cases, "entries": entries, "seconds": seconds})
