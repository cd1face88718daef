"""Connecting to Temporal with the one data converter."""

from __future__ import annotations

from temporalio.client import Client

from readmit.keys import payload_keyring
from readmit.settings import Settings
from readmit.temporal.codec import data_converter


async def connect_client(settings: Settings, address: str | None = None) -> Client:
    """A client for `address` (default: settings) whose payloads are encrypted."""
    target = address or settings.temporal_address
    if target is None:
        raise RuntimeError("no Temporal address: set READMIT_TEMPORAL_ADDRESS or use `readmit run`")
    return await Client.connect(
        target,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(payload_keyring(settings)),
    )
