"""How a reply awaiting a supervisor's approval looks in a case's answer (and on its page).

The draft is the replying state's own deliberation (`domain.reply_approval`): shown to the
requested state's officers, supervisors and auditors, never to the requesting state's (neither
in the case's answer nor in its history), and its note and reasons opened only when the caller
may read them (`vault.reveal`; `ERASED` once the case's key is erased).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.db.eventstore import Recorded
from adapters.protection.sealing import ERASED
from api.auth import Principal
from domain.reply_approval import OWN_EVENTS as REQUESTED_OWN_EVENTS
from domain.state import CaseState
from domain.values import NoteRecord, ReasonsRecord, Sealed


def reply_approval_view(state: CaseState, caller: Principal) -> dict[str, Any] | None:
    """The drafted reply and the last returned one, for the requested state; None otherwise
    (or when there is neither)."""
    terms = state.terms
    if terms is None or not caller.sees_state(terms.requested):
        return None
    draft, back = state.reply_draft, state.reply_returned
    if draft is None and back is None:
        return None
    return {
        "draft": None
        if draft is None
        else {
            "reply": draft.reply,
            "note": _note(draft.note),
            "reasons": _reasons(draft.reasons),
            "by": draft.by,
            "at": draft.at.isoformat(),
        },
        "returned": None
        if back is None
        else {"reasons": _reasons(back.reasons), "at": back.at.isoformat()},
    }


# the requested state's own events of a reply's approval (domain.reply_approval)
OWN_EVENTS = REQUESTED_OWN_EVENTS


def visible_events(
    recorded: Sequence[Recorded], caller: Principal, requested: str
) -> list[Recorded]:
    """A case's history as `caller` may read it: a draft and its return are the requested
    state's own (a federated node never sends them), so a single installation hides them from
    the requesting state's officers and auditors too."""
    if caller.sees_state(requested):
        return list(recorded)
    return [r for r in recorded if r.type not in OWN_EVENTS]


REPLIES = frozenset({"accept", "refuse", "consent_transit", "refuse_transit"})


def offered_actions(actions: Sequence[str], state: CaseState, caller: Principal) -> list[str]:
    """The page's actions for `caller`: while a reply awaits approval its officers are offered
    no other reply (one draft at a time); a supervisor's own reply still leaves at once."""
    if state.reply_draft is None or caller.role == "supervisor":
        return list(actions)
    return [a for a in actions if a not in REPLIES]


def _reasons(reasons: ReasonsRecord) -> list[str] | dict[str, Any]:
    return dict(ERASED) if isinstance(reasons, Sealed) else list(reasons)


def _note(note: NoteRecord | None) -> str | dict[str, Any] | None:
    return dict(ERASED) if isinstance(note, Sealed) else note
