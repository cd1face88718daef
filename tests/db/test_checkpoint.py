"""Signed checkpoints against a real PostgreSQL: what they hold, that they cannot be altered or
re-signed unnoticed, and that a superuser's rewrite, truncation or deletion, each leaving every
hash chain intact, is reported against one with its case and version."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tampering import delete_stream, rewrite_event, truncate_tail

from adapters.audit.bundle import signing_key_from
from adapters.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointSignatureError,
    anchor_findings,
    key_id,
    merkle_root,
    read_checkpoint,
    take_checkpoint,
    write_atomically,
)
from adapters.db.canonical import canonical_json
from adapters.db.event_queries import StreamHead, absent_streams, stream_ids
from adapters.db.eventstore import EventStore, Recorded
from adapters.encoding import public_key_text
from domain.stored import NewEvent

KEY = signing_key_from(base64.b64encode(os.urandom(32)).decode())


def event(n: int) -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(), type="NoteAdded", schema_version=1, data={"n": n, "text": "note"}
    )


async def filled(pool: asyncpg.Pool, lengths: dict[str, int]) -> EventStore:
    store = EventStore(pool)
    for case_id, length in lengths.items():
        await store.append(case_id, 0, [event(n) for n in range(1, length + 1)])
    return store


async def anchored(store: EventStore, checkpoint: Checkpoint) -> dict[str, list[tuple[str, int]]]:
    """Each case's findings against `checkpoint` (kind, version), the lost cases included."""
    case_ids = [s async for s in stream_ids(store.pool)]
    case_ids += await absent_streams(store.pool, list(checkpoint.streams))
    found: dict[str, list[tuple[str, int]]] = {}
    for case_id in case_ids:
        findings = anchor_findings(checkpoint, case_id, await store.read_stream(case_id))
        if findings:
            found[case_id] = [(f.kind, f.version) for f in findings]
    return found


async def test_a_checkpoint_signs_every_head_at_one_position(pool: asyncpg.Pool) -> None:
    store = await filled(pool, {"PL-UA-2027-000002": 2, "PL-UA-2027-000001": 3, "MD-RO-1": 1})
    signed = await take_checkpoint(pool, KEY)
    checkpoint = read_checkpoint(signed.data, KEY.public_key())
    assert checkpoint == signed.checkpoint
    assert checkpoint.global_position == 6 and checkpoint.event_count == 6
    for case_id, head in checkpoint.streams.items():
        last = (await store.read_stream(case_id))[-1]
        assert head == StreamHead(case_id, last.version, last.hash)
    # the file is one line of canonical JSON, its cases in code-point order
    document = json.loads(signed.data)
    assert signed.data == canonical_json(document) + b"\n"
    body = document["checkpoint"]
    assert [s["case_id"] for s in body["streams"]] == sorted(checkpoint.streams)
    assert body["format"] == "readmit-audit-checkpoint/1" and body["stream_count"] == 3
    assert body["public_key"] == base64.b64encode(KEY.public_key().public_bytes_raw()).decode()
    stamp = datetime.strptime(body["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60
    # what an auditor checks with other tools: the signature over the member's canonical JSON
    KEY.public_key().verify(base64.b64decode(document["signature"]), canonical_json(body))


async def test_an_empty_store_has_a_checkpoint_too(pool: asyncpg.Pool) -> None:
    checkpoint = (await take_checkpoint(pool, KEY)).checkpoint
    assert (checkpoint.global_position, checkpoint.streams) == (0, {})
    assert checkpoint.merkle_root == hashlib.sha256(b"").hexdigest()


async def test_an_altered_or_re_signed_checkpoint_is_refused(pool: asyncpg.Pool) -> None:
    await filled(pool, {"CASE-1": 2, "CASE-2": 1})
    data = (await take_checkpoint(pool, KEY)).data
    document = json.loads(data)
    document["checkpoint"]["streams"][0]["version"] = 1  # a shorter history, to hide a cut
    altered = canonical_json(document)
    with pytest.raises(CheckpointSignatureError, match="was altered"):
        read_checkpoint(altered, KEY.public_key())
    # re-signed by whoever altered it, with their own key named in the file: still refused
    other = Ed25519PrivateKey.generate()
    document["checkpoint"]["key_id"] = key_id(other.public_key())
    document["checkpoint"]["public_key"] = public_key_text(other)
    document["signature"] = base64.b64encode(
        other.sign(canonical_json(document["checkpoint"]))
    ).decode()
    with pytest.raises(CheckpointSignatureError, match="not by the expected key"):
        read_checkpoint(canonical_json(document), KEY.public_key())
    with pytest.raises(CheckpointError, match="not a Readmit checkpoint"):
        read_checkpoint(b"[1, 2]", KEY.public_key())
    with pytest.raises(CheckpointError, match="not a Readmit checkpoint"):
        read_checkpoint(b"\xff", KEY.public_key())


def test_the_merkle_root_is_rfc_6962s_tree_hash() -> None:
    def reference(leaves: Sequence[bytes]) -> bytes:  # RFC 6962 section 2.1, as written
        if not leaves:
            return hashlib.sha256(b"").digest()
        if len(leaves) == 1:
            return hashlib.sha256(b"\x00" + leaves[0]).digest()
        k = 1 << ((len(leaves) - 1).bit_length() - 1)  # the largest power of two below n
        return hashlib.sha256(b"\x01" + reference(leaves[:k]) + reference(leaves[k:])).digest()

    for n in range(0, 19):
        heads = [
            StreamHead(f"C-{i:02d}", i + 1, hashlib.sha256(bytes([i])).digest()) for i in range(n)
        ]
        leaves = [
            canonical_json({"case_id": h.stream_id, "version": h.version, "head": h.hash.hex()})
            for h in heads
        ]
        assert merkle_root(heads) == reference(leaves), n


def test_a_checkpoint_file_is_written_whole_and_never_over_another(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.json"
    write_atomically(target, b"first\n")
    with pytest.raises(FileExistsError):
        write_atomically(target, b"second\n")
    assert target.read_bytes() == b"first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.json"]  # no partial file left


async def test_a_superusers_rewrite_truncation_and_deletion_are_reported_with_case_and_version(
    pool: asyncpg.Pool,
) -> None:
    store = await filled(pool, {"REWRITTEN": 4, "TRUNCATED": 5, "DELETED": 2, "EXTENDED": 2})
    checkpoint = read_checkpoint((await take_checkpoint(pool, KEY)).data, KEY.public_key())
    # after the checkpoint: a case goes on, another is opened; neither is a change to history
    await store.append("EXTENDED", 2, [event(3)])
    await store.append("OPENED-LATER", 0, [event(1)])
    assert await anchored(store, checkpoint) == {}

    await rewrite_event(pool, "REWRITTEN", 2, text="another note")
    await truncate_tail(pool, "TRUNCATED", keep=3)
    await delete_stream(pool, "DELETED")
    # every remaining chain recomputes: the store alone cannot tell
    assert all([result.ok async for result in store.verify_all()])
    assert await anchored(store, checkpoint) == {
        "REWRITTEN": [("rewritten", 4)],  # at or before version 4, the checkpointed head
        "TRUNCATED": [("truncated", 4)],  # versions 4 and 5 are gone
        "DELETED": [("deleted", 1)],
    }


def _recorded(version: int, position: int) -> Recorded:
    return Recorded(
        global_position=position,
        stream_id="CASE-1",
        version=version,
        event_id=uuid.uuid4(),
        type="NoteAdded",
        schema_version=1,
        data={},
        metadata={},
        recorded_at=datetime.now(UTC),
        prev_hash=bytes(32),
        hash=bytes([version]) * 32,
    )


def test_events_placed_inside_or_moved_out_of_the_covered_positions_are_reported() -> None:
    heads = [StreamHead("CASE-1", 2, bytes([2]) * 32)]
    checkpoint = Checkpoint("2027-01-04T09:00:00.000000Z", 10, {"CASE-1": heads[0]}, "", "", "")
    sound = [_recorded(1, 3), _recorded(2, 7), _recorded(3, 12)]
    assert anchor_findings(checkpoint, "CASE-1", sound) == []
    backdated = [_recorded(1, 3), _recorded(2, 7), _recorded(3, 9)]
    [inserted] = anchor_findings(checkpoint, "CASE-1", backdated)
    assert (inserted.kind, inserted.version) == ("inserted", 3)
    moved = [_recorded(1, 3), _recorded(2, 11)]
    [finding] = anchor_findings(checkpoint, "CASE-1", moved)
    assert (finding.kind, finding.version) == ("moved", 2)
    # a case the checkpoint does not hold, at positions it covers: slipped into its history
    [slipped] = anchor_findings(checkpoint, "CASE-9", [_recorded(1, 5)])
    assert (slipped.kind, slipped.version) == ("inserted", 1)
    assert anchor_findings(checkpoint, "CASE-9", [_recorded(1, 11)]) == []
