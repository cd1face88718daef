"""PostgreSQL: the case event store, its migrations and the connection pool."""

from adapters.db.canonical import VerifyResult
from adapters.db.eventstore import (
    ConcurrencyError,
    EventIdConflictError,
    EventStore,
    EventStoreError,
    Recorded,
)
from adapters.db.pool import create_pool

__all__ = [
    "ConcurrencyError",
    "EventIdConflictError",
    "EventStore",
    "EventStoreError",
    "Recorded",
    "VerifyResult",
    "create_pool",
]
