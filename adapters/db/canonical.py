r"""The canonical byte form of a recorded event and the hash chain over it.

Definition (what an auditor recomputes, with any tool):

1. The *event document* is the JSON object with exactly these eight members:
   ``stream_id`` (string), ``version`` (integer), ``event_id`` (string, the UUID in lowercase
   8-4-4-4-12 hex form), ``type`` (string), ``schema_version`` (integer), ``data`` (object),
   ``metadata`` (object) and ``recorded_at`` (string, UTC, exactly
   ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` with six fractional digits, e.g.
   ``2027-01-04T09:00:00.000000Z``). ``global_position`` is *not* part of it.
2. Its *canonical JSON* is that document serialised as UTF-8 with no whitespace at all, the
   members of every object (at every depth) sorted by Unicode code point of their names
   (= by their UTF-8 bytes), and strings escaped minimally: ``\"``, ``\\``, ``\b``, ``\f``,
   ``\n``, ``\r``, ``\t``, every other U+0000..U+001F and U+007F as ``\u00xx`` (lowercase hex);
   everything else, including non-ASCII, as raw UTF-8. This is exactly what ``jq -cS`` (jq 1.6
   and later) prints for the same document.
3. ``hash(v) = SHA-256(prev_hash(v) || canonical_json(v))`` where ``||`` is byte concatenation,
   ``prev_hash(1)`` is 32 zero bytes and ``prev_hash(v) = hash(v - 1)`` along one stream.

Values allowed in ``data`` and ``metadata`` (enforced at append, so that PostgreSQL's jsonb
stores them without changing them and every JSON tool re-reads them identically): objects with
string keys, arrays, strings without U+0000 or lone surrogates, ``true``/``false``/``null`` and
integers in the IEEE-754-safe range ±(2^53 - 1). Floats are forbidden (jsonb and jq reformat
them: ``1.0`` becomes ``1``); write decimals as strings or integers of a stated unit.

Recomputing a stream with psql, jq and coreutils (each output line is ``computed stored prev``;
intact means the first two columns are equal on every line and each ``prev`` equals the
previous line's ``stored``, the first being 64 zeros)::

    psql "$DATABASE_URL" -XAt -F ' ' -c "SELECT encode(hash, 'hex'), encode(prev_hash, 'hex'),
        json_build_object('stream_id', stream_id, 'version', version, 'event_id', event_id,
          'type', type, 'schema_version', schema_version, 'data', data, 'metadata', metadata,
          'recorded_at', to_char(recorded_at AT TIME ZONE 'UTC',
                                 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))
      FROM case_events WHERE stream_id = 'CASE-1' ORDER BY version" |
    while read -r stored prev doc; do
      computed=$({ printf '%s' "$prev" | xxd -r -p; printf '%s' "$doc" | jq -cSj .; } |
                 sha256sum | cut -c1-64)
      echo "$computed $stored $prev"
    done
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

ZERO_HASH = bytes(32)
MAX_SAFE_INTEGER = 2**53 - 1

_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


class NotCanonicalizable(ValueError):
    """A value that jsonb or common JSON tools would not re-read identically."""


def check_json(value: Any) -> None:
    """Raise `NotCanonicalizable` unless `value` is within the allowed JSON subset."""
    canonical_json(value)


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 bytes of an allowed JSON value (see the module docstring)."""
    try:
        _check(value)
        return _ENCODER.encode(value).encode("utf-8").replace(b"\x7f", b"\\u007f")
    except _Problem as problem:
        raise NotCanonicalizable(f"${''.join(reversed(problem.path))}: {problem}") from None
    except UnicodeEncodeError:
        raise NotCanonicalizable("$: not valid Unicode (a lone surrogate)") from None


class _Problem(Exception):
    """Raised deep in `_check`; each enclosing level adds its key to `path` on the way out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.path: list[str] = []


def _check(value: Any) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise _Problem(f"integer outside ±(2^53-1): {value}")
    elif isinstance(value, str):
        if "\x00" in value:
            raise _Problem("U+0000 is not allowed (jsonb rejects it)")
    elif isinstance(value, dict):
        for key, item in value.items():
            try:
                if not isinstance(key, str):
                    raise _Problem(f"object key {key!r} is not a string")
                _check(key)
                _check(item)
            except _Problem as problem:
                problem.path.append(f".{key}")
                raise
    elif isinstance(value, list):
        for index, item in enumerate(value):
            try:
                _check(item)
            except _Problem as problem:
                problem.path.append(f"[{index}]")
                raise
    elif isinstance(value, float):
        raise _Problem(f"floats are not allowed ({value!r}); use a string")
    else:
        raise _Problem(f"{type(value).__name__} is not JSON; dump it first")


def format_recorded_at(instant: datetime) -> str:
    """`2027-01-04T09:00:00.000000Z`: the fixed UTC form of `recorded_at` inside the hash."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("recorded_at must be timezone-aware")
    u = instant.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T"
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"
    )


def canonical_parts(
    *,
    stream_id: str,
    version: int,
    event_id: UUID,
    type: str,
    schema_version: int,
    data_json: bytes,
    metadata_json: bytes,
) -> tuple[bytes, bytes]:
    """The canonical event split around the `recorded_at` string's contents.

    `data_json`/`metadata_json` are `canonical_json(data)`/`canonical_json(metadata)`, and
    `head + format_recorded_at(t).encode() + tail` is the canonical event: the database splices
    in its own clock when the caller gives no `recorded_at`.
    """
    head = b"".join(
        (
            b'{"data":',
            data_json,
            b',"event_id":"',
            str(event_id).encode("ascii"),
            b'"',
            b',"metadata":',
            metadata_json,
            b',"recorded_at":"',
        )
    )
    tail = b"".join(
        (
            b'","schema_version":',
            _integer(schema_version),
            b',"stream_id":',
            canonical_json(stream_id),
            b',"type":',
            canonical_json(type),
            b',"version":',
            _integer(version),
            b"}",
        )
    )
    return head, tail


def _integer(value: int) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int):
        raise NotCanonicalizable(f"$: {value!r} is not an integer")
    return canonical_json(value)


def canonical_event(
    *,
    stream_id: str,
    version: int,
    event_id: UUID,
    type: str,
    schema_version: int,
    data: dict[str, Any],
    metadata: dict[str, Any],
    recorded_at: datetime,
) -> bytes:
    """The canonical JSON bytes of one event document."""
    head, tail = canonical_parts(
        stream_id=stream_id,
        version=version,
        event_id=event_id,
        type=type,
        schema_version=schema_version,
        data_json=canonical_json(data),
        metadata_json=canonical_json(metadata),
    )
    return head + format_recorded_at(recorded_at).encode("ascii") + tail


def chain_hash(prev_hash: bytes, canonical: bytes) -> bytes:
    """`SHA-256(prev_hash || canonical)`: one link of a stream's chain."""
    if len(prev_hash) != 32:
        raise ValueError("prev_hash must be 32 bytes")
    return hashlib.sha256(prev_hash + canonical).digest()


class ChainLink(Protocol):
    """What chain verification needs of a stored event."""

    @property
    def version(self) -> int: ...
    @property
    def prev_hash(self) -> bytes: ...
    @property
    def hash(self) -> bytes: ...
    def canonical(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of recomputing one stream's chain; `checked` counts the events examined."""

    stream_id: str
    ok: bool
    checked: int
    first_broken_version: int | None = None
    reason: str | None = None


def verify_chain(stream_id: str, events: Iterable[ChainLink]) -> VerifyResult:
    """Recompute the chain of one stream's events (in version order) from their stored values."""
    expected_prev, checked = ZERO_HASH, 0
    for expected_version, event in enumerate(events, start=1):
        checked += 1
        problem = _broken_link(event, expected_version, expected_prev)
        if problem is not None:
            version, reason = problem
            return VerifyResult(stream_id, False, checked, version, reason)
        expected_prev = event.hash
    return VerifyResult(stream_id, True, checked)


def _broken_link(
    event: ChainLink, expected_version: int, expected_prev: bytes
) -> tuple[int, str] | None:
    if event.version != expected_version:
        return expected_version, f"version {expected_version} is missing"
    if event.prev_hash != expected_prev:
        return event.version, "prev_hash differs from the previous event's hash"
    try:
        recomputed = chain_hash(event.prev_hash, event.canonical())
    except ValueError as error:  # NotCanonicalizable included
        return event.version, f"stored event cannot be canonicalised: {error}"
    if recomputed != event.hash:
        return event.version, "hash does not match the event's contents"
    return None
