"""Connecting to Temporal with the one data converter."""

from __future__ import annotations

from temporalio.client import Client

from adapters.keys import payload_keyring
from adapters.settings import Settings
from adapters.temporal.codec import data_converter
from adapters.tracing import Tracing, process_tracing


async def connect_client(
    settings: Settings, address: str | None = None, *, tracing: Tracing | None = None
) -> Client:
    """A client for `address` (default: `settings.temporal_target()`) whose payloads are
    encrypted, traced when tracing is on (workers built on the client inherit its tracing
    interceptor)."""
    return await Client.connect(
        settings.temporal_target(address),
        namespace=settings.temporal_namespace,
        data_converter=data_converter(payload_keyring(settings)),
        interceptors=(tracing or process_tracing(settings)).interceptors(),
    )
