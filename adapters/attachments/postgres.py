"""The attachment store in PostgreSQL (the default): table `case_attachments` (migration 0020),
one row per case and SHA-256, holding the sealed bytes. This module owns that table's SQL."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from adapters.attachments.store import BlobKey


class PostgresAttachmentStore:
    """`AttachmentStore` over the `case_attachments` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def put(self, key: BlobKey, sealed: bytes) -> bool:
        stored = await self.pool.fetchval(
            "INSERT INTO case_attachments (case_id, sha256, sealed) VALUES ($1, $2, $3)"
            " ON CONFLICT (case_id, sha256) DO NOTHING RETURNING true",
            key.case_id,
            key.sha256,
            sealed,
        )
        return bool(stored)

    async def get(self, key: BlobKey) -> bytes | None:
        found = await self.pool.fetchval(
            "SELECT sealed FROM case_attachments WHERE case_id = $1 AND sha256 = $2",
            key.case_id,
            key.sha256,
        )
        return bytes(found) if found is not None else None

    async def delete(self, key: BlobKey) -> None:
        await self.pool.execute(
            "DELETE FROM case_attachments WHERE case_id = $1 AND sha256 = $2",
            key.case_id,
            key.sha256,
        )

    async def delete_case(self, case_id: str) -> int:
        async with self.pool.acquire() as conn:
            return await erase_attachments(conn, [case_id])


async def erase_attachments(
    conn: asyncpg.Connection | PoolConnectionProxy, case_ids: Sequence[str]
) -> int:
    """Delete every stored attachment of `case_ids` (erasure, in the erasing transaction);
    returns how many rows went. Their key is erased with them, so nothing left could open."""
    status = await conn.execute(
        "DELETE FROM case_attachments WHERE case_id = ANY($1::text[])", list(case_ids)
    )
    return int(status.split()[-1])
