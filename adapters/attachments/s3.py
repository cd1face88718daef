"""The attachment store in an S3-compatible object store (MinIO, Ceph, AWS S3...), through the
`minio` client: one object per case and SHA-256 (`<case id>/<sha256>`) in one bucket, holding
the sealed bytes, so the store's operators see only ciphertext. The client is blocking; each
call runs in a worker thread. The bucket is created on first use if it is missing.

Erasure erases the case key, after which these objects cannot be opened, and then deletes them
(`delete_case`, after the erasing transaction: an object store has no transaction to join).
"""

from __future__ import annotations

import asyncio
import io

from minio import Minio
from minio.error import S3Error

from adapters.attachments.store import BlobKey

_MISSING = ("NoSuchKey", "NoSuchObject", "NoSuchBucket")


class S3AttachmentStore:
    """`AttachmentStore` over one bucket of an S3-compatible store."""

    def __init__(self, client: Minio, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self._bucket_ready = False

    @classmethod
    def connect(
        cls,
        endpoint: str,
        bucket: str,
        *,
        access_key: str,
        secret_key: str,
        secure: bool = True,
        region: str | None = None,
    ) -> S3AttachmentStore:
        """A store on `endpoint` (host[:port]); nothing is sent until it is first used."""
        client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region
        )
        return cls(client, bucket)

    def _ensure_bucket(self) -> None:
        if not self._bucket_ready:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as error:  # made meanwhile by another process
                    if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            self._bucket_ready = True

    def _exists(self, key: BlobKey) -> bool:
        try:
            self.client.stat_object(self.bucket, key.name)
        except S3Error as error:
            if error.code in _MISSING:
                return False
            raise
        return True

    def _put(self, key: BlobKey, sealed: bytes) -> bool:
        self._ensure_bucket()
        if self._exists(key):
            return False
        self.client.put_object(
            self.bucket,
            key.name,
            io.BytesIO(sealed),
            len(sealed),
            content_type="application/octet-stream",
        )
        return True

    def _get(self, key: BlobKey) -> bytes | None:
        try:
            response = self.client.get_object(self.bucket, key.name)
        except S3Error as error:
            if error.code in _MISSING:
                return None
            raise
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()

    def _delete(self, key: BlobKey) -> None:
        try:
            self.client.remove_object(self.bucket, key.name)
        except S3Error as error:
            if error.code not in _MISSING:
                raise

    def _delete_case(self, case_id: str) -> int:
        try:
            names = [
                o.object_name
                for o in self.client.list_objects(self.bucket, prefix=f"{case_id}/")
                if o.object_name
            ]
        except S3Error as error:
            if error.code in _MISSING:
                return 0
            raise
        for name in names:
            self.client.remove_object(self.bucket, name)
        return len(names)

    async def put(self, key: BlobKey, sealed: bytes) -> bool:
        return await asyncio.to_thread(self._put, key, sealed)

    async def get(self, key: BlobKey) -> bytes | None:
        return await asyncio.to_thread(self._get, key)

    async def delete(self, key: BlobKey) -> None:
        await asyncio.to_thread(self._delete, key)

    async def delete_case(self, case_id: str) -> int:
        return await asyncio.to_thread(self._delete_case, case_id)
