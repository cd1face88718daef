"""Attachments without I/O: the decider's table for `AddAttachment`, who may issue it, that it
crosses to the other node once the case is shared; sniffing a file's type from its bytes alone;
sealing bytes bound to their case and hash."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta

import pytest
from attachment_files import gif, jpeg, pdf, png
from factories import T0, open_case, run

from adapters.attachments.sniff import sniff
from adapters.protection.sealing import CaseSealer, SealError
from domain.actions import expected_actions
from domain.commands import AddAttachment, CloseCase, SubmitApplication, WithdrawCase
from domain.decider import decide
from domain.errors import AlreadyRecorded, CaseClosedError, WrongStatus
from domain.events import AttachmentAdded, dump_event, parse_event
from domain.federation import crosses
from domain.state import CaseState
from domain.values import Side
from workflows.contracts import Actor
from workflows.readmission_case import may_not_act

AT = T0 + timedelta(hours=1)
SHA = hashlib.sha256(b"scan").hexdigest()
ID = "3f2b8c1e-9d4a-4c6b-8e2f-0a1b2c3d4e5f"


def add(
    side: Side = Side.REQUESTING, *, attachment_id: str = ID, sha: str = SHA, by: str = "anna.pl"
) -> AddAttachment:
    return AddAttachment(
        at=AT,
        side=side,
        by=by,
        attachment_id=attachment_id,
        sha256=sha,
        media_type="image/png",
        size=4,
    )


def test_an_attachment_is_one_event_carrying_its_hash() -> None:
    state, _ = run([open_case()])
    events = decide(add(), state)
    assert events == [
        AttachmentAdded(
            at=AT,
            side=Side.REQUESTING,
            by="anna.pl",
            attachment_id=ID,
            sha256=SHA,
            media_type="image/png",
            size=4,
        )
    ]
    assert parse_event(dump_event(events[0])) == events[0]
    after, _ = run([add()], state)
    assert [a.sha256 for a in after.attachments] == [SHA]
    assert after.updated_at == state.updated_at  # a node's own record, not a move of the case


def test_the_same_content_or_id_twice_is_refused() -> None:
    state, _ = run([open_case(), add()])
    with pytest.raises(AlreadyRecorded, match="already attachment"):
        decide(add(attachment_id="00000000-0000-4000-8000-000000000000"), state)
    with pytest.raises(AlreadyRecorded, match="already recorded"):
        decide(add(sha=hashlib.sha256(b"other").hexdigest()), state)


def test_no_attachment_before_opening_or_after_closing() -> None:
    with pytest.raises(WrongStatus):
        decide(add(), CaseState())
    withdrawn, _ = run([open_case(), WithdrawCase(at=AT, reasons=("mistake",))])
    closed, _ = run([CloseCase(at=AT + timedelta(hours=1))], withdrawn)
    with pytest.raises(CaseClosedError):
        decide(add().model_copy(update={"at": AT + timedelta(hours=2)}), closed)


def test_either_party_adds_for_its_own_side_and_a_shared_cases_file_crosses() -> None:
    state, _ = run([open_case(), SubmitApplication(at=AT)])
    ua = Actor(user_id="olena.ua", state="UA", role="officer")
    assert may_not_act(ua, add(Side.REQUESTED, by="olena.ua"), state) is None
    assert may_not_act(ua, add(Side.REQUESTING), state) is not None
    auditor = Actor(user_id="audit.pl", state="PL", role="auditor")
    assert may_not_act(auditor, add(), state) is not None
    assert crosses(add(), state)  # a shared case's file travels to the other node
    draft, _ = run([open_case()])
    assert not crosses(add(), draft)  # a draft's stays with the requesting state
    assert "add_attachment" not in {name for _, name in expected_actions(state)}


@pytest.mark.parametrize(
    ("data", "media"),
    [
        (png(), "image/png"),
        (jpeg(), "image/jpeg"),
        (pdf(), "application/pdf"),
        (gif(), None),
        (b"", None),
        (b"just text", None),
        (b"PK\x03\x04%PDF-1.4", None),  # a ZIP naming a PDF is a ZIP
        (b"<html>%PDF-1.4</html>", None),
        (b"\x89PNG", None),  # a PNG's signature cut short
    ],
)
def test_the_type_is_sniffed_from_the_bytes(data: bytes, media: str | None) -> None:
    assert sniff(data) == media


def test_sealed_bytes_open_only_for_their_case_and_hash() -> None:
    key = os.urandom(32)
    sealer = CaseSealer("PL-UA-2027-000001", key)
    blob = sealer.seal_bytes(f"attachment/{SHA}", b"scan")
    assert b"scan" not in blob
    assert sealer.open_bytes(f"attachment/{SHA}", blob) == b"scan"
    with pytest.raises(SealError):
        sealer.open_bytes("attachment/other", blob)
    with pytest.raises(SealError):
        CaseSealer("PL-UA-2027-000002", key).open_bytes(f"attachment/{SHA}", blob)
    with pytest.raises(SealError):
        sealer.open_bytes(f"attachment/{SHA}", blob[:-1] + bytes([blob[-1] ^ 1]))
