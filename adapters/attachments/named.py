"""Whether a case's history names a file: the check before a refused upload's stored bytes are
deleted, so bytes that another (concurrent) upload of the same file recorded are never lost."""

from __future__ import annotations

from adapters.db.eventstore import EventStore
from domain.decider import fold


async def case_names_file(events: EventStore, case_id: str, sha256: str) -> bool:
    """Whether the case, as recorded now, has an attachment with these bytes."""
    recorded = await events.read_stream(case_id)
    return any(a.sha256 == sha256 for a in fold(r.event() for r in recorded).attachments)
