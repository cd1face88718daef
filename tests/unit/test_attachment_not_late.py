"""A file added by the requested state near its reply deadline, on a shared case: it is no reply,
so it is never refused as late nor back-dated to its sending instant (like a message between the
states, `domain.federation.late`); it counts when it is received."""

from __future__ import annotations

from datetime import timedelta

from test_messages import submitted

from domain.commands import AcceptApplication, AddAttachment
from domain.federation import counted_at, late
from domain.values import Side


def test_a_file_near_a_deadline_is_never_late_and_counts_when_received() -> None:
    state = submitted()
    due = state.deadlines["reply"].due
    now = due + timedelta(seconds=30)
    for sent_at in (due - timedelta(seconds=10), due + timedelta(seconds=10)):
        added = AddAttachment(
            at=sent_at,
            side=Side.REQUESTED,
            by="olena.ua",
            attachment_id="3f2b8c1e-9d4a-4c6b-8e2f-0a1b2c3d4e5f",
            sha256="0" * 64,
            media_type="image/png",
            size=100,
        )
        assert late(added, Side.REQUESTED, state, sent_at, now) is None
        assert counted_at(added, Side.REQUESTED, state, sent_at, now) == now
    reply = AcceptApplication(at=due + timedelta(seconds=10))
    assert late(reply, Side.REQUESTED, state, reply.at, now) == "reply"  # a reply is
