"""The attachment stores behind one interface: PostgreSQL (the default) and an S3-compatible
object store (moto's S3 server over real HTTP, reached with the `minio` client). Each keeps
sealed bytes by case and SHA-256, once (content-addressed), gives them back, forgets them;
the runtime role may not change stored bytes; erasure deletes a case's rows with its key."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import asyncpg
import pytest
from attachment_files import moto_s3

from adapters.attachments.postgres import PostgresAttachmentStore
from adapters.attachments.s3 import S3AttachmentStore
from adapters.attachments.store import AttachmentStore, BlobKey, attachment_store
from adapters.db.privileges import TABLES
from adapters.protection.vault import PersonalDataVault
from adapters.settings import ConfigurationError, Settings
from adapters.temporal.codec import Keyring

CASE = "PL-UA-2027-000042"
OTHER = "PL-UA-2027-000043"


def key(data: bytes, case_id: str = CASE) -> BlobKey:
    return BlobKey(case_id, hashlib.sha256(data).hexdigest())


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


def s3_store(endpoint: str, bucket: str = "readmit-test") -> S3AttachmentStore:
    return S3AttachmentStore.connect(
        endpoint,
        bucket,
        access_key="testing",
        secret_key="testing",
        secure=False,
        region="us-east-1",
    )


@pytest.fixture(params=["postgres", "s3"])
async def store(
    request: pytest.FixtureRequest, pool: asyncpg.Pool
) -> AsyncIterator[AttachmentStore]:
    if request.param == "postgres":
        yield PostgresAttachmentStore(pool)
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        yield s3_store(endpoint, f"readmit-{os.urandom(4).hex()}")


async def test_a_store_keeps_bytes_once_by_case_and_hash_and_forgets_them(
    store: AttachmentStore,
) -> None:
    sealed = os.urandom(2048)
    plain = b"the plaintext the key is the hash of"
    assert await store.get(key(plain)) is None
    assert await store.put(key(plain), sealed) is True
    assert await store.put(key(plain), os.urandom(16)) is False  # already there: kept as it was
    assert await store.get(key(plain)) == sealed
    assert await store.get(key(plain, OTHER)) is None  # another case's key is another blob
    await store.delete(key(plain))
    assert await store.get(key(plain)) is None
    await store.delete(key(plain))  # forgetting twice is no error


def test_a_key_is_a_sha256() -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        BlobKey(CASE, "../../etc/passwd")
    assert key(b"x").name == f"{CASE}/{hashlib.sha256(b'x').hexdigest()}"


def test_settings_choose_the_store(pool: asyncpg.Pool, s3_endpoint: str) -> None:
    assert isinstance(attachment_store(Settings(), pool), PostgresAttachmentStore)
    with pytest.raises(ConfigurationError, match="READMIT_ATTACHMENT_S3_ENDPOINT"):
        attachment_store(Settings(attachment_store="s3"), pool)
    chosen = attachment_store(
        Settings(
            attachment_store="s3",
            attachment_s3_endpoint=s3_endpoint,
            attachment_s3_access_key="testing",
            attachment_s3_secret_key="testing",
            attachment_s3_secure=False,
            attachment_s3_bucket="abc",
        ),
        pool,
    )
    assert isinstance(chosen, S3AttachmentStore) and chosen.bucket == "abc"


def test_the_runtime_role_stores_reads_and_deletes_but_never_changes_bytes() -> None:
    assert TABLES["case_attachments"] == "SELECT, INSERT, DELETE"


async def test_erasure_deletes_the_cases_stored_attachments_with_its_key(
    pool: asyncpg.Pool,
) -> None:
    vault = PersonalDataVault(pool, Keyring({"m": os.urandom(32)}, "m", what="master"))
    store = PostgresAttachmentStore(pool)
    for case_id in (CASE, OTHER):
        sealer = await vault.create(case_id)
        plain = f"scan of {case_id}".encode()
        await store.put(key(plain, case_id), sealer.seal_bytes("attachment/x", plain))
    assert await vault.erase([CASE], datetime.now(UTC), "test") == [CASE]
    assert await store.get(key(f"scan of {CASE}".encode())) is None
    assert await store.get(key(f"scan of {OTHER}".encode(), OTHER)) is not None


async def test_erasure_deletes_a_cases_files_in_an_s3_store_too(
    pool: asyncpg.Pool, s3_endpoint: str
) -> None:
    store = s3_store(s3_endpoint, f"readmit-{os.urandom(4).hex()}")
    keys = Keyring({"m": os.urandom(32)}, "m", what="master")
    vault = PersonalDataVault(pool, keys, store)
    for case_id in (CASE, OTHER):
        sealer = await vault.create(case_id)
        for n in range(2):
            plain = f"scan {n} of {case_id}".encode()
            await store.put(key(plain, case_id), sealer.seal_bytes("attachment/x", plain))
    assert await vault.erase([CASE], datetime.now(UTC), "test") == [CASE]
    for n in range(2):
        assert await store.get(key(f"scan {n} of {CASE}".encode())) is None
        assert await store.get(key(f"scan {n} of {OTHER}".encode(), OTHER)) is not None
    assert await store.delete_case(CASE) == 0  # nothing left to forget
