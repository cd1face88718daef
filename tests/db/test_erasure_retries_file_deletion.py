"""An erasure whose files an object store could not delete at the time (S3 unreachable): the
key is gone, and erasing the case again (`readmit privacy erase`, the retention sweep) deletes
the files left behind, instead of skipping a case whose key was erased before."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import asyncpg
import pytest
from attachment_files import moto_s3
from test_attachment_stores import CASE, key, s3_store

from adapters.protection.vault import PersonalDataVault
from adapters.temporal.codec import Keyring


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


async def test_erasing_again_deletes_the_files_an_earlier_erasure_left(
    pool: asyncpg.Pool, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = s3_store(s3_endpoint, f"readmit-{os.urandom(4).hex()}")
    vault = PersonalDataVault(pool, Keyring({"m": os.urandom(32)}, "m", what="master"), store)
    sealer = await vault.create(CASE)
    plain = b"scan of the passport"
    await store.put(key(plain), sealer.seal_bytes("attachment/x", plain))

    async def unreachable(case_id: str) -> int:
        raise OSError("the object store cannot be reached")

    monkeypatch.setattr(store, "delete_case", unreachable)
    assert await vault.erase([CASE], datetime.now(UTC), "request") == [CASE]
    assert await store.get(key(plain)) is not None  # left behind, unreadable without the key
    monkeypatch.undo()

    assert await vault.erase([CASE], datetime.now(UTC), "request") == []  # erased before
    assert await store.get(key(plain)) is None
