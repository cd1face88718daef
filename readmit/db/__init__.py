"""PostgreSQL: the case event store, its migrations and the connection pool."""

from readmit.db.canonical import VerifyResult
from readmit.db.eventstore import (
    ConcurrencyError,
    EventIdConflictError,
    EventStore,
    EventStoreError,
    NewEvent,
    Recorded,
)
from readmit.db.pool import create_pool

__all__ = [
    "ConcurrencyError",
    "EventIdConflictError",
    "EventStore",
    "EventStoreError",
    "NewEvent",
    "Recorded",
    "VerifyResult",
    "create_pool",
]
