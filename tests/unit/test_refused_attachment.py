"""When the other node refuses a crossing `AddAttachment`, the sender removes its stored bytes
only if no attachment the case recorded has the same bytes (stored once per case and hash)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from factories import T0, open_case, run

from domain.commands import AddAttachment
from domain.values import Side
from workflows.refused_attachment import orphaned

ID = "3f2b8c1e-9d4a-4c6b-8e2f-0a1b2c3d4e5f"


def add(data: bytes, attachment_id: str = ID) -> AddAttachment:
    return AddAttachment(
        at=T0 + timedelta(hours=1),
        side=Side.REQUESTING,
        by="anna.pl",
        attachment_id=attachment_id,
        sha256=hashlib.sha256(data).hexdigest(),
        media_type="image/png",
        size=len(data),
    )


def test_a_refused_files_bytes_go_unless_a_recorded_attachment_shares_them() -> None:
    state, _ = run([open_case(), add(b"kept")])
    assert orphaned(add(b"scan", "7a1b2c3d-0000-4000-8000-000000000001"), state)
    assert not orphaned(add(b"kept", "7a1b2c3d-0000-4000-8000-000000000002"), state)
