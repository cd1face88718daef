"""The values of a case's conversation (`domain.messages`): what kind a message is, its text,
and what the case remembers of each message to judge the next one.

Kept apart from `domain.messages` so that commands, events and the state can name them without
importing the rules that use them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, StringConstraints

from domain.agreements import Frozen
from domain.values import PartySide, Sealed

MESSAGE_TEXT_MAX = 4000
MessageText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=MESSAGE_TEXT_MAX,
        pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$",
    ),
]
MessageTextRecord = MessageText | Sealed
"""A message's text as a case carries it: free text that may name the person, so sealed with
the case key like reasons and notes (`adapters/protection/sealing.py`)."""


class MessageKind(StrEnum):
    """What a message does: the requested state asks for more information or an interview, the
    requesting state answers such a request, either side writes a note to the other."""

    REQUEST_INFORMATION = "request_information"
    REQUEST_INTERVIEW = "request_interview"
    ANSWER = "answer"
    NOTE = "note"

    @property
    def is_request(self) -> bool:
        return self in (MessageKind.REQUEST_INFORMATION, MessageKind.REQUEST_INTERVIEW)


class MessageOnRecord(Frozen):
    """What the case keeps of a message it recorded: who sent it, what kind it is, by when a
    request for information is to be answered (where the terms set a limit), and whether an
    answer has come."""

    side: PartySide
    kind: MessageKind
    answer_due: AwareDatetime | None = None
    answered: bool = False
