"""The `person_index` table (the person search's blind index): its one owner.

The projector replaces a case's entries when the case's person or evidence is recorded or
amended (`replace_entries`, in its batch's transaction), the vault's erasure deletes them with
the case's key (`erase_entries`), and the search finds the cases some hashes point to among
those the caller may know (`find`). Only hashes are stored (adapters/protection/blind_index.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from adapters.db.case_queries import known_to_any_sql
from adapters.protection.blind_index import Entry
from domain.identity.search_tokens import KIND_WEIGHTS

Connection = asyncpg.Connection | PoolConnectionProxy

# Row-locks the keys of the cases about to be indexed, skipping any erased: an erasure racing
# the projection waits for its commit and then deletes what it wrote, or has committed first
# and its case is left out (FOR SHARE re-reads a row updated meanwhile).
_NOT_ERASED = (
    "SELECT case_id FROM case_keys WHERE case_id = ANY($1) AND erased_at IS NULL"
    " ORDER BY case_id FOR SHARE"
)


async def replace_entries(
    conn: Connection, entries: Mapping[str, Sequence[Entry]], *, sealed: Collection[str] = ()
) -> None:
    """Make `entries` the index of each case named (an empty list: none). Cases in `sealed`
    (their person sealed with a case key) are indexed only while their key is not erased."""
    if not entries:
        return
    cases = list(entries)
    # the keys first, as the erasure takes them first: the two never wait on each other in turn
    keyed = {r["case_id"] for r in await conn.fetch(_NOT_ERASED, [c for c in cases if c in sealed])}
    await conn.execute("DELETE FROM person_index WHERE case_id = ANY($1)", cases)
    rows = [
        (case_id, e.kind, e.hash)
        for case_id, found in entries.items()
        if case_id not in sealed or case_id in keyed
        for e in found
    ]
    if rows:
        await conn.executemany(
            "INSERT INTO person_index (case_id, kind, hash) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            rows,
        )


async def erase_entries(conn: Connection, case_ids: Sequence[str]) -> None:
    """Delete the entries of `case_ids`, whose keys were just erased (same transaction)."""
    await conn.execute("DELETE FROM person_index WHERE case_id = ANY($1)", list(case_ids))


async def clear(conn: Connection) -> None:
    """Delete every entry (a rebuild of the projection indexes every case again)."""
    await conn.execute("DELETE FROM person_index")


async def entries_of(pool: asyncpg.Pool, case_id: str) -> list[Entry]:
    rows = await pool.fetch(
        "SELECT kind, hash FROM person_index WHERE case_id = $1 ORDER BY kind, hash", case_id
    )
    return [Entry(r["kind"], bytes(r["hash"])) for r in rows]


async def find(
    pool: asyncpg.Pool | Connection,
    hashes: Iterable[bytes],
    states: Collection[str],
    *,
    limit: int = 1000,
    excluding: str | None = None,
) -> dict[str, set[bytes]]:
    """The cases known to a holder of `states` (`*`: every state) with any of `hashes`, each
    with the hashes it has; at most `limit` of them, those whose kinds of token found weigh most
    first (`search_tokens.KIND_WEIGHTS`, an upper bound of their score), then by hashes found."""
    rows = await pool.fetch(
        "SELECT i.case_id, array_agg(i.hash) AS found FROM person_index i"
        " WHERE i.hash = ANY($1::bytea[]) AND i.case_id IS DISTINCT FROM $4"
        f" AND {known_to_any_sql('i.case_id', '$2::text[]')}"
        f" GROUP BY i.case_id ORDER BY {_WEIGHED} DESC, count(*) DESC, i.case_id LIMIT $3",
        list(hashes),
        list(states),
        limit,
        excluding,
    )
    return {r["case_id"]: {bytes(h) for h in r["found"]} for r in rows}


_WEIGHED = " + ".join(
    f"(CASE WHEN bool_or(i.kind = '{kind.value}') THEN {weight!r} ELSE 0 END)"
    for kind, weight in KIND_WEIGHTS.items()
)
