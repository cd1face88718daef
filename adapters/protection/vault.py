"""Per-case data keys in PostgreSQL, wrapped by a master key: envelope encryption and erasure.

Each case gets a random AES-256 data key when it is opened. The key is stored wrapped (AES-GCM)
under the active master key, bound to its case id; the master key id is kept beside it, so a
master-key rotation re-wraps keys row by row while every process keeps reading (any master key
of the keyring unwraps). Erasure removes the wrapped key for good (a trigger forbids giving an
erased row key material again): the case's sealed data can then not be opened anywhere.
Keys are never cached across calls, so an erasure takes effect in every process at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import structlog

from adapters.attachments.postgres import erase_attachments
from adapters.attachments.store import AttachmentStore
from adapters.db.case_queries import past_retention
from adapters.db.person_index import erase_entries
from adapters.db.projector import erase_person_summaries
from adapters.protection.sealing import CaseSealer
from adapters.temporal.codec import Keyring
from domain.commands import Command, OpenCase, personal_data_in_clear
from domain.state import CaseState

log = structlog.get_logger(__name__)

_ERASE = """
INSERT INTO case_keys (case_id, erased_at, erasure_reason)
SELECT unnest($1::text[]), $2, $3
ON CONFLICT (case_id) DO UPDATE
   SET wrapped = NULL, master_key_id = NULL,
       erased_at = EXCLUDED.erased_at, erasure_reason = EXCLUDED.erasure_reason
 WHERE case_keys.erased_at IS NULL
RETURNING case_id
"""


class DataErased(Exception):
    """The case's data key was erased: its personal data can no longer be read."""

    def __init__(self, case_id: str, erased_at: datetime) -> None:
        super().__init__(f"the personal data of case {case_id} was erased on {erased_at:%Y-%m-%d}")
        self.case_id, self.erased_at = case_id, erased_at


@dataclass(frozen=True, slots=True)
class KeyStatus:
    case_id: str
    exists: bool
    erased_at: datetime | None = None
    erasure_reason: str | None = None


class PersonalDataVault:
    """Creates, unwraps, erases and re-wraps case data keys."""

    def __init__(
        self, pool: asyncpg.Pool, master: Keyring, attachments: AttachmentStore | None = None
    ) -> None:
        self.pool = pool
        self.master = master
        # where the case's files are kept outside PostgreSQL too (an S3-compatible store):
        # erasure deletes them there after its transaction
        self.attachments = attachments

    def _unwrap(self, case_id: str, master_key_id: str, wrapped: bytes) -> CaseSealer:
        return CaseSealer(case_id, self.master.decrypt(master_key_id, wrapped, case_id.encode()))

    async def create(self, case_id: str) -> CaseSealer:
        """The case's sealer, creating its data key on first use (concurrent calls agree)."""
        key_id, wrapped = self.master.encrypt(os.urandom(32), case_id.encode())
        await self.pool.execute(
            "INSERT INTO case_keys (case_id, master_key_id, wrapped) VALUES ($1, $2, $3)"
            " ON CONFLICT (case_id) DO NOTHING",
            case_id,
            key_id,
            wrapped,
        )
        sealer = await self.sealer(case_id)
        assert sealer is not None  # the row exists now
        return sealer

    async def sealer(self, case_id: str) -> CaseSealer | None:
        """The case's sealer; None if it has no key; `DataErased` if its key was erased."""
        row = await self.pool.fetchrow(
            "SELECT master_key_id, wrapped, erased_at FROM case_keys WHERE case_id = $1", case_id
        )
        if row is None:
            return None
        if row["erased_at"] is not None:
            raise DataErased(case_id, row["erased_at"])
        return self._unwrap(case_id, row["master_key_id"], row["wrapped"])

    async def status(self, case_id: str) -> KeyStatus:
        row = await self.pool.fetchrow(
            "SELECT erased_at, erasure_reason FROM case_keys WHERE case_id = $1", case_id
        )
        if row is None:
            return KeyStatus(case_id, exists=False)
        return KeyStatus(case_id, True, row["erased_at"], row["erasure_reason"])

    async def seal(self, case_id: str, command: Command) -> Command:
        """`command` with its personal data sealed; opening a case creates the case's key.

        A command carrying no personal data is returned as it is, without a database call."""
        if not personal_data_in_clear(command):
            return command
        if isinstance(command, OpenCase):
            sealer = await self.create(case_id)
        else:
            found = await self.sealer(case_id)
            if found is None:
                return command  # no such case: the case itself will refuse the command
            sealer = found
        return sealer.seal_command(command)

    async def reveal(self, state: CaseState) -> CaseState:
        """`state` with its personal data opened; as it is (sealed, shown as erased) if erased."""
        if state.case_id is None:
            return state
        try:
            sealer = await self.sealer(state.case_id)
        except DataErased:
            return state
        return sealer.reveal(state) if sealer else state

    async def sealers(self, case_ids: Sequence[str]) -> dict[str, CaseSealer | None]:
        """Sealers of many cases in one query (None where the key is erased or missing)."""
        rows = await self.pool.fetch(
            "SELECT case_id, master_key_id, wrapped FROM case_keys WHERE case_id = ANY($1)",
            list(case_ids),
        )
        found: dict[str, CaseSealer | None] = dict.fromkeys(case_ids)
        for r in rows:
            if r["wrapped"] is not None:
                found[r["case_id"]] = self._unwrap(r["case_id"], r["master_key_id"], r["wrapped"])
        return found

    async def erase(self, case_ids: Sequence[str], at: datetime, reason: str) -> list[str]:
        """Erase the data keys of `case_ids` (their list summaries, search index entries and the
        attachments kept in PostgreSQL) in one transaction.

        Returns the cases erased now; cases erased before are left as they were, but for the
        files an object store still holds of them, deleted now.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_ERASE, list(case_ids), at, reason)
            erased = [r["case_id"] for r in rows]
            await erase_person_summaries(conn, erased)
            await erase_entries(conn, erased)  # the person search's index (issue 17)
            await erase_attachments(conn, erased)  # the sealed files kept in PostgreSQL
        if self.attachments is not None:
            # every case named, erased now or before: erasing again deletes the files an earlier
            # erasure could not (an object store unreachable then)
            for case_id in dict.fromkeys(case_ids):
                try:
                    await self.attachments.delete_case(case_id)
                except Exception as error:  # the key is gone: what is left cannot be opened
                    log.warning(
                        "erased case's files not deleted",
                        case_id=case_id,
                        error_type=type(error).__name__,
                    )
        return erased

    async def expired(self, at: datetime, limit: int = 1000, default_days: int = 1095) -> list[str]:
        """Closed cases whose agreement's retention period has ended by `at`, keys not erased."""
        return await past_retention(self.pool, at, limit, default_days)

    async def to_rewrap(self) -> int:
        """How many data keys are wrapped by another master key than the active one."""
        count = await self.pool.fetchval(
            "SELECT count(*) FROM case_keys WHERE wrapped IS NOT NULL AND master_key_id <> $1",
            self.master.active,
        )
        return int(count)

    async def rewrap(self, batch: int = 500, on_batch: Callable[[int], None] | None = None) -> int:
        """Re-wrap every data key not under the active master key; returns how many were.

        Each batch is one transaction over rows locked with SKIP LOCKED, so several processes
        may run it at once and readers never wait: they unwrap with whichever key a row names.
        `on_batch` hears how many keys each committed batch re-wrapped.
        """
        active = self.master.active
        done = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(
                    "SELECT case_id, master_key_id, wrapped FROM case_keys"
                    " WHERE wrapped IS NOT NULL AND master_key_id <> $1"
                    " ORDER BY case_id LIMIT $2 FOR UPDATE SKIP LOCKED",
                    active,
                    batch,
                )
                if not rows:
                    return done
                updates = []
                for r in rows:
                    aad = r["case_id"].encode()
                    key = self.master.decrypt(r["master_key_id"], r["wrapped"], aad)
                    updates.append((r["case_id"], *self.master.encrypt(key, aad)))
                await conn.executemany(
                    "UPDATE case_keys SET master_key_id = $2, wrapped = $3, rewrapped_at = now()"
                    " WHERE case_id = $1",
                    updates,
                )
            done += len(rows)
            if on_batch:
                on_batch(len(rows))
