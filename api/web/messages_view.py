"""The "Messages" section of the case page: the conversation between the two states, oldest
first, each message with its author, state and instant, and the choices of the form to write one
(its route: api/web/case_messages.py).

The conversation is read like the API's (`api.conversation`) and its texts are personal data:
a page that shows any records a disclosure. The kinds offered are those the caller's side may
send (`domain.messages.SENDER`); an answer names one of the other side's requests.
"""

from __future__ import annotations

from typing import Any

from adapters.db.eventstore import Recorded
from api.auth import Principal
from api.conversation import conversation
from api.routes.messages import read_disclosed
from api.web.i18n import N_
from api.web.pages import Page
from domain.message_values import MessageKind
from domain.messages import SENDER
from domain.state import CaseState
from domain.values import Side, Status

KIND_WORDS = {
    MessageKind.REQUEST_INFORMATION: N_("Request for information"),
    MessageKind.REQUEST_INTERVIEW: N_("Request for an interview"),
    MessageKind.ANSWER: N_("Answer"),
    MessageKind.NOTE: N_("Note"),
}


def _own_side(caller: Principal, state: CaseState) -> Side | None:
    terms = state.terms
    if terms is None or not caller.can_write:
        return None
    if caller.state == terms.requesting:
        return Side.REQUESTING
    if caller.state == terms.requested:
        return Side.REQUESTED
    return None


async def messages_section(
    page: Page, case_id: str, recorded: list[Recorded], state: CaseState
) -> dict[str, Any]:
    """What the section shows: the messages, and the form's choices when the caller may write
    (a party's officer, on a case submitted and not closed)."""
    assert state.terms is not None
    sealers = await page.services.vault.sealers([case_id])
    items = conversation(
        recorded, sealers[case_id], (state.terms.requesting, state.terms.requested)
    )
    if items:
        await read_disclosed(page.services, page.principal, case_id, "GET /ui/cases/{id}")
    side = _own_side(page.principal, state)
    open_conversation = state.status not in (Status.DRAFT, Status.CLOSED)
    kinds = [
        (kind.value, page._(KIND_WORDS[kind]))
        for kind in MessageKind
        if side is not None and SENDER[kind] in (None, side)
    ]
    requests = [
        (m["message_id"], m) for m in items if m["answered"] is not None and m["side"] != side
    ]
    return {
        "conversation": items,
        "words": {k.value: page._(w) for k, w in KIND_WORDS.items()},
        "can_write": side is not None and open_conversation,
        "kinds": kinds,
        "requests": requests if side is Side.REQUESTING else [],
    }
