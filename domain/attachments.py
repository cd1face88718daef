"""Attachments: either party's officers add scans, photos and documents to a case.

`AddAttachment` records one `AttachmentAdded` event naming the bytes by their SHA-256 (the
bytes themselves are sealed in a store, outside the history). Either party adds files for its
own side; like any officer's command of a shared case it crosses to the other node from the
submission on (its file travelling with it), while a draft's files stay with the requesting
state. A case never waits for one. A case holds each content once: the same bytes added again
are refused (the API answers with the attachment already there).
"""

from __future__ import annotations

from domain.attachment_record import AttachmentRecord
from domain.commands import AddAttachment
from domain.errors import AlreadyRecorded, CaseClosedError, WrongStatus
from domain.events import AttachmentAdded
from domain.state import CaseState
from domain.values import Status


def decide_attachment(command: AddAttachment, state: CaseState) -> list[AttachmentAdded]:
    """The one `AttachmentAdded` event, or the rule it breaks: an opened case that is not
    closed, an id not used before, content not attached before."""
    if not state.opened:
        raise WrongStatus(f"{command.command}: the case has not been opened")
    if state.status is Status.CLOSED:
        raise CaseClosedError(f"{command.command}: the case is closed")
    for known in state.attachments:
        if known.attachment_id == command.attachment_id:
            raise AlreadyRecorded(f"attachment {command.attachment_id} is already recorded")
        if known.sha256 == command.sha256:
            raise AlreadyRecorded(f"this content is already attachment {known.attachment_id}")
    return [
        AttachmentAdded(
            at=command.at,
            side=command.side,
            by=command.by,
            attachment_id=command.attachment_id,
            sha256=command.sha256,
            media_type=command.media_type,
            size=command.size,
            note=command.note,
        )
    ]


def attached(state: CaseState, event: AttachmentAdded) -> dict[str, object]:
    """The state's changes once `event` is recorded (an `evolve` step)."""
    record = AttachmentRecord(
        attachment_id=event.attachment_id,
        sha256=event.sha256,
        media_type=event.media_type,
        size=event.size,
        side=event.side,
        by=event.by,
        at=event.at,
        note=event.note,
    )
    return {"attachments": (*state.attachments, record)}
