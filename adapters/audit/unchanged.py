"""Cases a signed checkpoint already covers, for `audit verify --all --checkpoint` to skip.

A case is *unchanged since the checkpoint* when its stored head (last version and that event's
hash) is exactly the head the checkpoint signed. Such a case was, when the checkpoint was
taken, what it is now as far as its chain can tell: a rewrite with the hashes recomputed, a cut
tail, a deletion or a later event all change the head, and those cases are verified in full.
Skipping the rest (no chain recomputed, no history fetched or replayed) is what makes a
verify after a checkpoint cost only the cases that moved since.

What a skip does not see: a stored row edited *without* recomputing its hash (the stored head
still matches), and a workflow code change that would no longer replay those histories. Hence
the skip is only as good as the verify the checkpoint was taken after, and `--full` (run after
each release, and on any suspicion) re-verifies every case.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

import asyncpg

from adapters.audit.checkpoint import Checkpoint
from adapters.db.eventstore import EventStore


async def unchanged_since(pool: asyncpg.Pool, checkpoint: Checkpoint) -> set[str]:
    """The cases of `checkpoint` whose stored head is the one it signed (one query)."""
    heads = await EventStore(pool).heads(list(checkpoint.streams))
    unchanged: set[str] = set()
    for case_id, head in heads.items():
        signed = checkpoint.streams.get(case_id)
        if signed is not None and head == (signed.version, signed.hash):
            unchanged.add(case_id)
    return unchanged


async def without(case_ids: AsyncIterable[str], skipped: set[str]) -> AsyncIterator[str]:
    """`case_ids` in their order, less those in `skipped`."""
    async for case_id in case_ids:
        if case_id not in skipped:
            yield case_id
