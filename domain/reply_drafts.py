"""What a case holds of a reply awaiting a supervisor's approval (`domain.reply_approval`).

The drafted reply and, once a supervisor returns one, why: values of the case's state, kept
apart from the rules that make and clear them so that `domain.state` can hold them without
importing the decider's half. Note and reasons stay as the events carry them (sealed).
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from domain.agreements import Frozen
from domain.values import NoteRecord, ReasonsRecord


class ReplyDraft(Frozen):
    """The reply an officer drafted (`accept` with an optional note, or `refuse` with reasons),
    who drafted it and when. One at a time: a supervisor approves or returns it."""

    reply: Literal["accept", "refuse"]
    note: NoteRecord | None = None
    reasons: ReasonsRecord = ()
    by: str
    at: AwareDatetime


class ReplyReturn(Frozen):
    """The last drafted reply a supervisor returned, with their reasons and when."""

    reasons: ReasonsRecord
    at: AwareDatetime
