"""Signed checkpoints: every case's head, anchored outside the database.

The hash chain proves only that a stream agrees with itself: whoever can write `case_events`
(a superuser, or a role that may disable its triggers) can rewrite an event and recompute every
later hash, cut a stream's tail or delete a stream, and the chain still verifies. A checkpoint
kept where that person cannot reach it (a write-once directory, another organisation's webhook)
fixes, at one moment, every stream's last version and that event's hash: afterwards a rewrite
changes the hash at that version, a truncation removes the version, a deletion the case.

A checkpoint file is one line of canonical JSON (`adapters/db/canonical.py`, what `jq -cS`
prints), `{"checkpoint": {...}, "signature": "<base64>"}`, where `signature` is the Ed25519
signature, by the audit signing key, of the canonical JSON of the `checkpoint` member:

- `format`: `readmit-audit-checkpoint/1`;
- `created_at`: when the snapshot was read (the database's clock, `YYYY-MM-DDTHH:MM:SS.ffffffZ`);
- `global_position`: the last position the snapshot saw; it holds exactly positions 1 to it;
- `streams`: `{"case_id", "version", "head"}` for every case, `head` the hex hash of the event
  at `version`, sorted by case id (Unicode code points); `stream_count`, `event_count` (the sum
  of the versions);
- `merkle_root`: hex root of the Merkle tree of RFC 6962 (section 2.1) over the `streams`
  entries in order: a leaf is `SHA-256(0x00 || canonical JSON of the entry)`, a node
  `SHA-256(0x01 || left || right)`, the empty tree `SHA-256("")`; a 32-byte digest to publish
  where a whole file does not fit (a register, a letter, a log line);
- `key_id` (the first 16 hex digits of SHA-256 of the raw public key) and `public_key` (base64).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import asyncpg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapters.db.canonical import NotCanonicalizable, canonical_json, format_recorded_at
from adapters.db.event_queries import HeadsSnapshot, StreamHead, stream_heads
from adapters.db.eventstore import Recorded
from adapters.encoding import fingerprint, public_key_text

FORMAT = "readmit-audit-checkpoint/1"


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint (unreadable, not JSON, inconsistent)."""


class CheckpointSignatureError(CheckpointError):
    """A checkpoint whose signature does not verify with the expected key."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 of the raw public key: a short name for the key
    (`adapters.encoding.fingerprint`; command signatures prefix it with `ed25519-`)."""
    return fingerprint(public_key)


def _entry(head: StreamHead) -> dict[str, Any]:
    return {"case_id": head.stream_id, "version": head.version, "head": head.hash.hex()}


def merkle_root(heads: Sequence[StreamHead]) -> bytes:
    """RFC 6962's Merkle tree hash over the heads' entries, in the order given. Built level by
    level, an odd last node carried up unchanged: the same tree as the RFC's recursive split
    at the largest power of two below n."""
    level = [hashlib.sha256(b"\x00" + canonical_json(_entry(h))).digest() for h in heads]
    if not level:
        return hashlib.sha256(b"").digest()
    while len(level) > 1:
        paired = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint's contents: the snapshot's position and time, and each case's head."""

    created_at: str
    global_position: int
    streams: dict[str, StreamHead]
    merkle_root: str
    key_id: str
    public_key: str

    @property
    def event_count(self) -> int:
        return sum(h.version for h in self.streams.values())

    def file_name(self) -> str:
        """`checkpoint-<UTC time>-<position>.json`: names sort in the order taken."""
        stamp = self.created_at[:19].replace("-", "").replace(":", "")
        return f"checkpoint-{stamp}Z-{self.global_position:012d}.json"


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    data: bytes  # the file's bytes


def seal(snapshot: HeadsSnapshot, key: Ed25519PrivateKey) -> SignedCheckpoint:
    """Sign the snapshot's heads: the checkpoint and the bytes of its file."""
    heads = sorted(snapshot.heads, key=lambda h: h.stream_id)
    public = key.public_key()
    checkpoint = Checkpoint(
        created_at=format_recorded_at(snapshot.taken_at),
        global_position=snapshot.global_position,
        streams={h.stream_id: h for h in heads},
        merkle_root=merkle_root(heads).hex(),
        key_id=key_id(public),
        public_key=public_key_text(key),
    )
    body = canonical_json(
        {
            "format": FORMAT,
            "created_at": checkpoint.created_at,
            "global_position": checkpoint.global_position,
            "stream_count": len(heads),
            "event_count": checkpoint.event_count,
            "streams": [_entry(h) for h in heads],
            "merkle_root": checkpoint.merkle_root,
            "key_id": checkpoint.key_id,
            "public_key": checkpoint.public_key,
        }
    )
    signature = base64.b64encode(key.sign(body))
    # the canonical JSON of {"checkpoint": body, "signature": ...}, without encoding body twice
    data = b'{"checkpoint":' + body + b',"signature":"' + signature + b'"}\n'
    return SignedCheckpoint(checkpoint, data)


async def take_checkpoint(
    pool: asyncpg.Pool,
    key: Ed25519PrivateKey,
    progress: Callable[[int, int], None] | None = None,
) -> SignedCheckpoint:
    """Read every stream's head in one snapshot and sign them (`progress(done, total)`)."""
    return seal(await stream_heads(pool, progress), key)


def read_checkpoint(data: bytes, public_key: Ed25519PublicKey) -> Checkpoint:
    """Parse a checkpoint file and verify it: the signature with `public_key` (not with the key
    the file names, which anyone can replace), then the Merkle root and the counts."""
    try:
        document = json.loads(data)
        body, signature_text = document["checkpoint"], document["signature"]
        if not isinstance(body, dict) or set(document) != {"checkpoint", "signature"}:
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(
            "not a Readmit checkpoint (expected checkpoint and signature)"
        ) from None
    if body.get("format") != FORMAT:
        raise CheckpointError(f"format {body.get('format')!r} is not {FORMAT}")
    try:
        public_key.verify(base64.b64decode(signature_text, validate=True), canonical_json(body))
    except (InvalidSignature, ValueError, TypeError, NotCanonicalizable):
        expected = key_id(public_key)
        if body.get("key_id") != expected:
            raise CheckpointSignatureError(
                f"signed by key {body.get('key_id')!r}, not by the expected key {expected}"
            ) from None
        raise CheckpointSignatureError(
            "the signature does not match: the checkpoint was altered"
        ) from None
    try:
        heads = [
            StreamHead(str(e["case_id"]), int(e["version"]), bytes.fromhex(e["head"]))
            for e in body["streams"]
        ]
        checkpoint = Checkpoint(
            created_at=str(body["created_at"]),
            global_position=int(body["global_position"]),
            streams={h.stream_id: h for h in heads},
            merkle_root=str(body["merkle_root"]),
            key_id=str(body["key_id"]),
            public_key=str(body["public_key"]),
        )
        counts = (int(body["stream_count"]), int(body["event_count"]))
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"signed, but not readable: {type(error).__name__}") from None
    if [h.stream_id for h in heads] != sorted(checkpoint.streams):
        raise CheckpointError("signed, but its cases are not sorted and unique")
    if counts != (len(heads), checkpoint.event_count):
        raise CheckpointError("signed, but its counts disagree with its cases")
    if merkle_root(heads).hex() != checkpoint.merkle_root:
        raise CheckpointError("signed, but its Merkle root is not that of its cases")
    return checkpoint


def load_checkpoint(path: Path, public_key: Ed25519PublicKey) -> Checkpoint:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CheckpointError(f"cannot read {path}: {error.strerror}") from None
    return read_checkpoint(data, public_key)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all, never over an existing file: the bytes go to a
    temporary file beside it, are flushed to disk, and are then linked under the final name
    (a `FileExistsError` if the name is taken)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(partial, path)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if path.exists():
                raise FileExistsError(path) from None
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


Kind = Literal["rewritten", "truncated", "deleted", "inserted", "moved"]


@dataclass(frozen=True, slots=True)
class AnchorFinding:
    """One change to the history a checkpoint covers, at a case's version."""

    kind: Kind
    version: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "version": self.version, "detail": self.detail}


def anchor_findings(
    checkpoint: Checkpoint, case_id: str, stored: Sequence[Recorded]
) -> list[AnchorFinding]:
    """How the case's stored events (in version order) depart from the checkpoint: its head
    must still be the hash at the checkpointed version (later events only extend it), and
    exactly the versions up to it may lie at positions up to the checkpoint's."""
    position = checkpoint.global_position
    anchored = checkpoint.streams.get(case_id)
    if anchored is None:
        early = next((e for e in stored if e.global_position <= position), None)
        if early is None:
            return []  # a case opened after the checkpoint
        return [
            AnchorFinding(
                "inserted",
                early.version,
                f"inserted: version {early.version} lies at position {early.global_position}, "
                f"inside the checkpoint's history, which holds no such case",
            )
        ]
    v = anchored.version
    if not stored:
        return [AnchorFinding("deleted", 1, f"deleted: no events stored; the checkpoint holds {v}")]
    findings: list[AnchorFinding] = []
    at = stored[v - 1] if len(stored) >= v and stored[v - 1].version == v else None
    if at is None:
        at = next((e for e in stored if e.version == v), None)
    last = stored[-1].version
    if at is None and last < v:
        findings.append(
            AnchorFinding(
                "truncated",
                last + 1,
                f"truncated: the store ends at version {last}, the checkpoint holds {v}",
            )
        )
    elif at is None or at.hash != anchored.hash:
        found = "missing" if at is None else f"{at.hash.hex()[:16]}…"
        findings.append(
            AnchorFinding(
                "rewritten",
                v,
                f"rewritten at or before version {v}: its hash is {found}, the checkpoint's "
                f"{anchored.hash.hex()[:16]}…",
            )
        )
    moved = next((e for e in stored if e.version <= v and e.global_position > position), None)
    if moved is not None:
        findings.append(
            AnchorFinding(
                "moved",
                moved.version,
                f"moved: version {moved.version} lies at position {moved.global_position}, "
                f"after the checkpoint's {position}",
            )
        )
    added = next((e for e in stored if e.version > v and e.global_position <= position), None)
    if added is not None:
        findings.append(
            AnchorFinding(
                "inserted",
                added.version,
                f"inserted: version {added.version} lies at position {added.global_position}, "
                f"inside the checkpoint's history, which ends this case at version {v}",
            )
        )
    return findings
