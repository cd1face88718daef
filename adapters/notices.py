"""Notices as outbox rows in `notifications`: the SQL that writes them, and the shared inbox of
a role.

Recipients come from the directory (`officers`) by state and role. Every officer gets the notice
in the in-app inbox, and by e-mail or webhook where the directory gives an address. If nobody
holds that role in that state, the notice goes to the role's shared inbox (`@PL:supervisor`), so
no reminder or escalation is ever dropped for want of a recipient. The dispatcher
(`adapters/outbox.py`) sends the e-mail and webhook rows.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from adapters.db.eventstore import SqlCall
from domain.notices import Notice


def group_inbox(state: str, role: str) -> str:
    """The shared inbox of a role in a state, used when the directory names nobody."""
    return f"@{state}:{role}"


def record_notices(notices: Sequence[Notice], channels: Collection[str]) -> SqlCall:
    """The `record_notices` call (migration 0008) writing `notices` as outbox rows: recipients
    from the directory, or the role's shared inbox (`group_inbox`); e-mail and webhook rows
    only on `channels`. Run in the statement of the event append that causes them."""
    return SqlCall(
        "record_notices",
        (
            [n.key for n in notices],
            [n.case_id for n in notices],
            [n.state for n in notices],
            [n.role for n in notices],
            [n.kind for n in notices],
            [n.subject for n in notices],
            [n.model_dump(mode="json") for n in notices],
            sorted(set(channels) - {"inbox"}),
        ),
    )
