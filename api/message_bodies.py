"""The request body of `POST /cases/{id}/messages`: a message to the other state, its text in
the clear (the server seals it with the case key before it reaches the case)."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from api.command_bodies import Body
from domain.message_values import MESSAGE_TEXT_MAX, MessageKind, MessageText


class MessageBody(Body):
    kind: MessageKind = Field(
        description="request_information | request_interview (the requested state), answer (the "
        "requesting state, naming the request in `answers`), note (either)"
    )
    text: MessageText = Field(
        description=f"the message, 1 to {MESSAGE_TEXT_MAX} characters",
        examples=["Please send a copy of the birth certificate."],
    )
    answers: UUID | None = Field(
        default=None, description="the message this one answers or follows up"
    )
