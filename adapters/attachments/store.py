"""The attachment store: where the sealed bytes of a case's files are kept, behind one interface.

The case's history records an attachment's SHA-256 (domain.attachments); the bytes, sealed with
the case's data key, are kept outside it, content-addressed by the case and that hash
(`BlobKey`). PostgreSQL keeps them by default (`adapters.attachments.postgres`); an
S3-compatible object store can (`adapters.attachments.s3`), chosen by
`READMIT_ATTACHMENT_STORE`. A store sees only sealed bytes: it never holds a case key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from adapters.settings import ConfigurationError, Settings

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class BlobKey:
    """Where one attachment's sealed bytes are: its case and the SHA-256 of its plaintext."""

    case_id: str
    sha256: str

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError("an attachment's key is the SHA-256 of its bytes, in hex")

    @property
    def name(self) -> str:
        """The key as one path (`<case id>/<sha256>`), an object store's object name."""
        return f"{self.case_id}/{self.sha256}"


def seal_purpose(sha256: str) -> str:
    """What an attachment's seal is bound to besides its case: its own hash (so a blob moved
    to another key, case or file does not open)."""
    return f"attachment/{sha256}"


class AttachmentStore(Protocol):
    """Keeps sealed attachment bytes by key."""

    async def put(self, key: BlobKey, sealed: bytes) -> bool:
        """Keep `sealed` under `key`; True if stored now, False if the key was already there
        (content-addressed: the bytes there are the same file's)."""
        ...

    async def get(self, key: BlobKey) -> bytes | None:
        """The sealed bytes under `key`, or None."""
        ...

    async def delete(self, key: BlobKey) -> None:
        """Forget `key` (nothing happens if it is not there)."""
        ...

    async def delete_case(self, case_id: str) -> int:
        """Forget every file of a case (its erasure); how many went."""
        ...


def attachment_store(settings: Settings, pool: asyncpg.Pool) -> AttachmentStore:
    """The store `READMIT_ATTACHMENT_STORE` names; `ConfigurationError` (one line) for an S3
    store without its endpoint or credentials."""
    if settings.attachment_store == "postgres":
        from adapters.attachments.postgres import PostgresAttachmentStore

        return PostgresAttachmentStore(pool)
    from adapters.attachments.s3 import S3AttachmentStore

    secret = settings.attachment_s3_secret_key
    if not (settings.attachment_s3_endpoint and settings.attachment_s3_access_key and secret):
        raise ConfigurationError(
            "READMIT_ATTACHMENT_STORE=s3 needs READMIT_ATTACHMENT_S3_ENDPOINT, "
            "READMIT_ATTACHMENT_S3_ACCESS_KEY and READMIT_ATTACHMENT_S3_SECRET_KEY"
        )
    return S3AttachmentStore.connect(
        settings.attachment_s3_endpoint,
        settings.attachment_s3_bucket,
        access_key=settings.attachment_s3_access_key,
        secret_key=secret.get_secret_value(),
        secure=settings.attachment_s3_secure,
        region=settings.attachment_s3_region,
    )
