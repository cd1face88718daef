"""An event on its way into the event store: the one form it has between the workflow and the
store.

The case workflow builds a `NewEvent` from each event it decided (`NewEvent.of`), the commit
activity hands those to the store as they are, and the store writes their fields into its
columns. What the store gives back is a different thing (`adapters.db.eventstore.Recorded`: a
stored row, with its position, version, instant and hashes), and what a command's update answers
is shorter still (`workflows.contracts.RecordedEvent`: a reference kept in Temporal's history).

The store also checks, when it appends, that `data` and `metadata` are in the JSON subset its
hash chain covers (`adapters.db.canonical`); this model, being low in the house, checks only
their shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, Field

from domain.agreements import Frozen
from domain.events import Event, from_stored, to_stored


class NewEvent(Frozen):
    """An event to append, in the store's own terms (type, schema version, JSON data) with its
    id and metadata (who, which command, which workflow run); `recorded_at` None means the
    database's clock at append."""

    event_id: UUID
    type: str = Field(min_length=1)
    schema_version: int = Field(ge=1)
    data: dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)
    recorded_at: AwareDatetime | None = None

    @classmethod
    def of(cls, event_id: UUID, event: Event, metadata: Mapping[str, Any]) -> NewEvent:
        """`event` in stored form; metadata entries without a value are left out."""
        event_type, schema_version, data = to_stored(event)
        return cls(
            event_id=event_id,
            type=event_type,
            schema_version=schema_version,
            data=data,
            metadata={k: v for k, v in metadata.items() if v is not None},
        )

    def event(self) -> Event:
        """The domain event again (upcast if it was stored under an older schema)."""
        return from_stored(self.type, self.schema_version, self.data)
