"""A case's conversation as the API and the pages show it: each `CaseMessageSent` of its
stream, oldest first, with its author and instant (the event's actor and time), its text opened
with the case key (`{"erased": true}` once the key is erased), the message it answers, and for
a request, by when it is to be answered and whether it has been.

The texts are personal data: whoever shows them records a disclosure (api/disclosure.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.db.eventstore import Recorded
from adapters.protection.sealing import ERASED, CaseSealer
from domain.events import CaseMessageSent
from domain.values import Sealed

# The field the disclosure log names for a conversation read.
DISCLOSED_FIELDS = ("messages",)


def conversation(
    recorded: Sequence[Recorded], sealer: CaseSealer | None, parties: tuple[str, str]
) -> list[dict[str, Any]]:
    """The case's messages in the order they were recorded; `parties` is the case's
    (requesting, requested) pair, naming the state each side writes for."""
    sent = [(r, e) for r in recorded if isinstance(e := r.event(), CaseMessageSent)]
    answered = {str(e.answers) for _, e in sent if e.kind.value == "answer" and e.answers}
    requesting, requested = parties
    return [
        {
            "message_id": str(event.message_id),
            "kind": event.kind.value,
            "side": event.side.value,
            "state": requesting if event.side.value == "requesting" else requested,
            "author": {
                "user_id": row.metadata.get("actor"),
                "state": row.metadata.get("actor_state"),
                "role": row.metadata.get("actor_role"),
            },
            "at": event.at.isoformat(),
            "text": _text(event, sealer),
            "answers": str(event.answers) if event.answers else None,
            "answer_due": event.answer_due.isoformat() if event.answer_due else None,
            "answered": (str(event.message_id) in answered if event.kind.is_request else None),
            "version": row.version,
        }
        for row, event in sent
    ]


def _text(event: CaseMessageSent, sealer: CaseSealer | None) -> str | dict[str, Any]:
    text = sealer.open_text(event.text) if sealer is not None else event.text
    return dict(ERASED) if isinstance(text, Sealed) else text
