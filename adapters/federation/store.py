"""The messages and receipts a node exchanged, as they travelled (migration 0015).

Rows are only ever inserted. A message is stored before its first attempt leaves (so every
attempt sends the same signed bytes) and when it arrives; a receipt once it is final (applied, or
refused for good): a retryable refusal is answered but not kept, the message is still to come.
Each row keeps the compact JWS, so it proves itself with the signer's key, and the chain heads
inside it, which `readmit audit verify --peer` compares with the stores' own chains.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from adapters.db.eventstore import EventStore
from adapters.federation.envelope import ReceiptBody

Direction = Literal["out", "in"]


@dataclass(frozen=True)
class StoredMessage:
    message_id: UUID
    direction: Direction
    case_id: str
    peer: str
    seq: int
    kind: str
    command: str
    sent_at: datetime
    head_version: int | None
    head_hash: str | None
    content_hash: str
    token: str


@dataclass(frozen=True)
class StoredReceipt:
    message_id: UUID
    direction: Direction
    case_id: str
    peer: str
    outcome: str
    code: str | None
    received_at: datetime
    content_hash: str
    head_version: int | None
    head_hash: str | None
    echoed_version: int | None
    echoed_hash: str | None
    token: str


@dataclass(frozen=True)
class ChainPoint:
    """A stream's hash at a version (hex), as its own store holds it now."""

    version: int
    hash: str


def stored_receipt(
    receipt: ReceiptBody, direction: Direction, case_id: str, peer: str, token: str
) -> StoredReceipt:
    """The row that keeps a final receipt (`token`, the signed JWS of `receipt`)."""
    refused = receipt.outcome == "refused"
    head, echoed = receipt.head, receipt.echoed_head
    return StoredReceipt(
        message_id=receipt.message_id,
        direction=direction,
        case_id=case_id,
        peer=peer,
        outcome="refused" if refused else "applied",
        code=receipt.refusal.code if receipt.refusal else None,
        received_at=receipt.received_at,
        content_hash=receipt.content_hash,
        head_version=head.version if head else None,
        head_hash=head.hash if head else None,
        echoed_version=echoed.version if echoed else None,
        echoed_hash=echoed.hash if echoed else None,
        token=token,
    )


_MESSAGE_COLUMNS = (
    "message_id, direction, case_id, peer, seq, kind, command, sent_at, head_version,"
    " head_hash, content_hash, token"
)
_RECEIPT_COLUMNS = (
    "message_id, direction, case_id, peer, outcome, code, received_at, content_hash,"
    " head_version, head_hash, echoed_version, echoed_hash, token"
)


class ExchangeStore:
    """The node's record of its exchange with its peers."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.events = EventStore(pool)

    async def add_message(self, message: StoredMessage) -> StoredMessage:
        """Keep `message`; if one with its id and direction is kept already, that one (the first
        record stands: a peer reusing an id of ours cannot keep its own message out)."""
        row = await self.pool.fetchrow(
            f"""WITH added AS (
                   INSERT INTO federation_messages ({_MESSAGE_COLUMNS})
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                   ON CONFLICT (message_id, direction) DO NOTHING
                   RETURNING {_MESSAGE_COLUMNS})
                SELECT {_MESSAGE_COLUMNS} FROM added
                UNION ALL
                SELECT {_MESSAGE_COLUMNS} FROM federation_messages
                 WHERE message_id = $1 AND direction = $2
                LIMIT 1""",
            message.message_id,
            message.direction,
            message.case_id,
            message.peer,
            message.seq,
            message.kind,
            message.command,
            message.sent_at,
            message.head_version,
            message.head_hash,
            message.content_hash,
            message.token,
        )
        assert row is not None
        return StoredMessage(**dict(row))

    async def message(self, message_id: UUID, direction: Direction) -> StoredMessage | None:
        row = await self.pool.fetchrow(
            f"SELECT {_MESSAGE_COLUMNS} FROM federation_messages"
            " WHERE message_id = $1 AND direction = $2",
            message_id,
            direction,
        )
        return None if row is None else StoredMessage(**dict(row))

    async def add_receipt(self, receipt: StoredReceipt) -> StoredReceipt:
        """Keep a final receipt; if one is kept for the message already, that one."""
        row = await self.pool.fetchrow(
            f"""WITH added AS (
                   INSERT INTO federation_receipts ({_RECEIPT_COLUMNS})
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                   ON CONFLICT (message_id, direction) DO NOTHING
                   RETURNING {_RECEIPT_COLUMNS})
                SELECT {_RECEIPT_COLUMNS} FROM added
                UNION ALL
                SELECT {_RECEIPT_COLUMNS} FROM federation_receipts
                 WHERE message_id = $1 AND direction = $2
                LIMIT 1""",
            receipt.message_id,
            receipt.direction,
            receipt.case_id,
            receipt.peer,
            receipt.outcome,
            receipt.code,
            receipt.received_at,
            receipt.content_hash,
            receipt.head_version,
            receipt.head_hash,
            receipt.echoed_version,
            receipt.echoed_hash,
            receipt.token,
        )
        assert row is not None
        return StoredReceipt(**dict(row))

    async def receipt(self, message_id: UUID, direction: Direction) -> StoredReceipt | None:
        row = await self.pool.fetchrow(
            f"SELECT {_RECEIPT_COLUMNS} FROM federation_receipts"
            " WHERE message_id = $1 AND direction = $2",
            message_id,
            direction,
        )
        return None if row is None else StoredReceipt(**dict(row))

    async def messages(self, case_id: str | None = None) -> list[StoredMessage]:
        """Every message kept (of one case), in the order each side numbered them."""
        rows = await self.pool.fetch(
            f"SELECT {_MESSAGE_COLUMNS} FROM federation_messages"
            " WHERE $1::text IS NULL OR case_id = $1 ORDER BY case_id, direction, seq, stored_at",
            case_id,
        )
        return [StoredMessage(**dict(r)) for r in rows]

    async def receipts(self, case_id: str | None = None) -> list[StoredReceipt]:
        rows = await self.pool.fetch(
            f"SELECT {_RECEIPT_COLUMNS} FROM federation_receipts"
            " WHERE $1::text IS NULL OR case_id = $1 ORDER BY case_id, stored_at",
            case_id,
        )
        return [StoredReceipt(**dict(r)) for r in rows]

    async def chain_head(self, case_id: str) -> ChainPoint | None:
        """The case's stream head in this node's event store (None before its first event)."""
        head = await self.events.head(case_id)
        return None if head is None else ChainPoint(head[0], head[1].hex())

    async def chain_points(self, case_id: str, versions: list[int]) -> dict[int, str]:
        """The case's stream hash at each of `versions` (hex), as its event store holds it now."""
        found = await self.events.hashes_at(case_id, versions)
        return {version: digest.hex() for version, digest in found.items()}
