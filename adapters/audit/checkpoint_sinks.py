"""Where checkpoints go: out of the database's reach, to a directory and/or a webhook.

- **Directory**: each checkpoint a new file, `checkpoint-<UTC time>-<position>.json`, written
  whole or not at all and never over another. Mount there what the database's administrators
  cannot rewrite: a write-once (WORM) bucket, another organisation's share, a log shipper's
  spool.
- **Webhook**: the file's bytes POSTed as `application/json` with the Standard Webhooks headers
  (`webhook-id`, `webhook-timestamp`, `webhook-signature`) in their asymmetric form: the
  signature is `v1a,<base64 Ed25519 signature of "<id>.<timestamp>.<body>">` by the audit
  signing key, so a receiver checks it, and the checkpoint's own signature, with the public key
  alone (`readmit audit public-key`), sharing no secret. Sent exactly as officers' webhooks are
  (`adapters.webhooks`): https only (plain http to a loopback address, for tests and a receiver
  on the same host); in production no loopback, private or link-local target, judged on every
  address the name resolves to at each send, and the request goes to one of those checked
  addresses (no DNS rebinding), with no redirect and no proxy from the environment.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.audit.checkpoint import SignedCheckpoint, write_atomically
from adapters.settings import ConfigurationError
from adapters.webhooks import (
    Resolver,
    TargetRefused,
    checked_addresses,
    post_pinned,
    system_resolver,
    url_problem,
    webhook_client,
)

WEBHOOK_TIMEOUT_SECONDS = 30.0


class CheckpointSinkError(RuntimeError):
    """A sink refused or could not take a checkpoint (the message names no personal data)."""


@dataclass
class CheckpointPublisher:
    """Signs checkpoints with `key` and hands them to the configured sinks."""

    key: Ed25519PrivateKey
    directory: Path | None = None
    webhook_url: str | None = None
    production: bool = False
    resolver: Resolver = system_resolver

    def __post_init__(self) -> None:
        if self.directory is None and self.webhook_url is None:
            raise ValueError("a checkpoint publisher needs a directory or a webhook URL")
        if self.webhook_url is not None and (
            problem := url_problem(self.webhook_url, production=self.production)
        ):
            raise ConfigurationError(f"READMIT_AUDIT_CHECKPOINT_WEBHOOK_URL is refused: {problem}")

    async def deliver(self, signed: SignedCheckpoint) -> tuple[str, ...]:
        """Hand `signed` to every sink; what took it (a file name, a webhook's host)."""
        delivered: list[str] = []
        if self.directory is not None:
            delivered.append(await self._to_directory(self.directory, signed))
        if self.webhook_url is not None:
            delivered.append(await self._to_webhook(self.webhook_url, signed))
        return tuple(delivered)

    async def _to_directory(self, directory: Path, signed: SignedCheckpoint) -> str:
        path = directory / signed.checkpoint.file_name()
        await asyncio.to_thread(_write_new, path, signed.data)
        return f"directory:{path}"

    async def _to_webhook(self, url: str, signed: SignedCheckpoint) -> str:
        checkpoint = signed.checkpoint
        message_id = f"checkpoint-{checkpoint.global_position}-{checkpoint.created_at}"
        timestamp = str(int(time.time()))
        signature = self.key.sign(f"{message_id}.{timestamp}.".encode() + signed.data)
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": "v1a," + base64.b64encode(signature).decode(),
        }
        host = urlsplit(url).hostname
        try:
            addresses = await checked_addresses(
                url, production=self.production, resolver=self.resolver
            )
        except TargetRefused as error:
            raise CheckpointSinkError(f"the checkpoint webhook is refused: {error}") from None
        except OSError as error:
            raise CheckpointSinkError(
                f"the checkpoint webhook's host {host} does not resolve: {type(error).__name__}"
            ) from None
        try:
            async with webhook_client(WEBHOOK_TIMEOUT_SECONDS) as client:
                response = await post_pinned(client, url, addresses, signed.data, headers)
        except httpx.HTTPError as error:
            raise CheckpointSinkError(
                f"the checkpoint webhook at {host} failed: {type(error).__name__}"
            ) from None
        if not response.is_success:
            raise CheckpointSinkError(
                f"the checkpoint webhook at {host} answered {response.status_code}"
            )
        return f"webhook:{host}"


def _write_new(path: Path, data: bytes) -> None:
    """Write a checkpoint's file into its (existing) directory, unless it is there already:
    the same snapshot, delivered by an earlier attempt."""
    if not path.parent.is_dir():
        raise CheckpointSinkError(f"the checkpoint directory {path.parent} does not exist")
    try:
        write_atomically(path, data)
    except FileExistsError:
        pass
    except OSError as error:
        raise CheckpointSinkError(f"cannot write {path}: {error.strerror}") from None
