"""Re-index the person search under the current search key (after the key changes, or a restore).

The blind index holds HMACs under one key (adapters/protection/blind_index.py): once
READMIT_SEARCH_KEY changes, every stored entry stops matching what the search hashes. This job
makes every case's entries again from its events, under the key it is given, in batches of cases.

Each batch is one transaction that first takes the `cases` projector's checkpoint row
(`FOR UPDATE`, as a projector batch does), so a projector indexing the same cases waits for it
or goes first, and the states are read after that lock: no older state can overwrite a newer
one. A failure rolls its batch back, so every case is either fully under the old key or fully
under the new one, never half. Erased cases are skipped (their keys are gone; `replace_entries`
re-checks under a row lock, so an erasure racing the job still wins).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from adapters.db.eventstore import EventStore
from adapters.db.person_index import replace_entries
from adapters.db.projector import NAME as PROJECTION
from adapters.protection.blind_index import BlindIndex
from adapters.protection.vault import PersonalDataVault
from domain.decider import fold
from domain.values import Sealed


@dataclass(frozen=True)
class ReindexResult:
    cases: int
    entries: int


class SearchReindexer:
    """Writes every non-erased case's index entries again under `index`'s key."""

    def __init__(self, pool: asyncpg.Pool, vault: PersonalDataVault, index: BlindIndex) -> None:
        self.pool, self.vault, self.index = pool, vault, index
        self.store = EventStore(pool)

    async def count(self) -> int:
        """How many cases `run` will index (for a progress bar)."""
        erased = await self.pool.fetchval(
            "SELECT count(*) FROM case_keys WHERE erased_at IS NOT NULL"
        )
        return await self.store.count_streams() - int(erased)

    async def run(
        self, batch: int = 200, on_batch: Callable[[int], None] | None = None
    ) -> ReindexResult:
        """Index every non-erased case again, `batch` cases a transaction, in case id order;
        `on_batch` hears how many cases each committed batch held."""
        cases = entries = 0
        after = ""
        while scanned := await self._next(after, batch):
            after = scanned[-1]
            ids = await self._not_erased(scanned)
            if ids:
                entries += await self._batch(ids)
                cases += len(ids)
            if on_batch is not None and ids:
                on_batch(len(ids))
        return ReindexResult(cases, entries)

    async def _next(self, after: str, limit: int) -> list[str]:
        """The next `limit` cases after `after` (walking the event store's primary key)."""
        return await self.store.stream_ids(after, limit)

    async def _not_erased(self, ids: list[str]) -> list[str]:
        erased = await self.pool.fetch(
            "SELECT case_id FROM case_keys WHERE case_id = ANY($1) AND erased_at IS NOT NULL", ids
        )
        gone = {r["case_id"] for r in erased}
        return [c for c in ids if c not in gone]

    async def _batch(self, ids: list[str]) -> int:
        """Replace the entries of `ids` in one transaction; returns how many were written."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0)"
                " ON CONFLICT (name) DO NOTHING",
                PROJECTION,
            )
            await conn.execute(
                "SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE",
                PROJECTION,
            )
            states = {c: fold(r.event() for r in await self.store.read_stream(c)) for c in ids}
            sealed = {c for c, s in states.items() if isinstance(s.person, Sealed)}
            sealers = await self.vault.sealers(sorted(sealed)) if sealed else {}
            made = {c: self.index.case_entries(s, sealers.get(c)) for c, s in states.items()}
            await replace_entries(conn, made, sealed=sealed)
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM person_index WHERE case_id = ANY($1)", ids
                )
            )
