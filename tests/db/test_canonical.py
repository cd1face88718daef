"""The canonical form: fixed examples, agreement with `jq -cS`, and the documented audit recipe."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import textwrap
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.db import canonical
from adapters.db.canonical import NotCanonicalizable, canonical_event, canonical_json, chain_hash
from adapters.db.eventstore import EventStore
from domain.stored import NewEvent

FIXED = {
    "stream_id": "UA-PL-2027-0001",
    "version": 1,
    "event_id": uuid.UUID("0b7c6a52-3f0e-4c1e-9d7a-2a1f4b5c6d7e"),
    "type": "CaseOpened",
    "schema_version": 1,
    "data": {
        "person": {"surname": "Ковальчук", "given": "Anna"},
        "b": [1, -2, True, None, 'x\n"\x7f\x01'],
        "a": 9007199254740991,
    },
    "metadata": {
        "actor": "officer-7",
        "actor_state": "PL",
        "role": "officer",
        "correlation_id": "c-1",
    },
    "recorded_at": datetime(2027, 1, 4, 10, 0, tzinfo=timezone(timedelta(hours=1))),
}
FIXED_CANONICAL = (
    '{"data":{"a":9007199254740991,"b":[1,-2,true,null,"x\\n\\"\\u007f\\u0001"],'
    '"person":{"given":"Anna","surname":"Ковальчук"}},'
    '"event_id":"0b7c6a52-3f0e-4c1e-9d7a-2a1f4b5c6d7e",'
    '"metadata":{"actor":"officer-7","actor_state":"PL","correlation_id":"c-1","role":"officer"},'
    '"recorded_at":"2027-01-04T09:00:00.000000Z","schema_version":1,'
    '"stream_id":"UA-PL-2027-0001","type":"CaseOpened","version":1}'
)
FIXED_HASH = "e9117af87090fb4ab990a608df5c92e645f7273072e91beaaa5ea623a18a63db"

needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")


def test_fixed_event_has_fixed_canonical_bytes_and_hash() -> None:
    text = canonical_event(**FIXED)  # type: ignore[arg-type]
    assert text.decode() == FIXED_CANONICAL
    assert chain_hash(bytes(32), text).hex() == FIXED_HASH


def test_chain_hash_is_sha256_of_prev_then_canonical() -> None:
    prev = bytes(range(32))
    assert chain_hash(prev, b"{}") == hashlib.sha256(prev + b"{}").digest()
    with pytest.raises(ValueError):
        chain_hash(b"short", b"{}")


def test_recorded_at_is_utc_with_six_fraction_digits() -> None:
    instant = datetime(2027, 3, 1, 0, 0, 0, 1500, tzinfo=timezone(timedelta(hours=-5)))
    assert canonical.format_recorded_at(instant) == "2027-03-01T05:00:00.001500Z"
    with pytest.raises(ValueError):
        canonical.format_recorded_at(datetime(2027, 3, 1))


def test_keys_sort_by_code_point_not_utf16() -> None:
    # JCS (UTF-16 order) would put the emoji first; code point order (jq, Python) puts it last
    assert canonical_json({"\U0001f600": 1, "\uffff": 2}) == '{"\uffff":2,"\U0001f600":1}'.encode()


@pytest.mark.parametrize(
    "value", [1.0, float("nan"), 2**53, -(2**53), "\x00", "\ud800", {1: 2}, b"x", {"a": [{}, 1.5]}]
)
def test_values_outside_the_subset_are_refused(value: Any) -> None:
    with pytest.raises(NotCanonicalizable):
        canonical_json(value)


json_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-canonical.MAX_SAFE_INTEGER, canonical.MAX_SAFE_INTEGER)
    | json_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=12,
)


@needs_jq
@settings(max_examples=60, deadline=None)
@given(json_values)
def test_canonical_json_is_what_jq_prints(value: Any) -> None:
    value = {"v": value}  # -j prints top-level strings raw; events are objects anyway
    plain = json.dumps(value, indent=1, ensure_ascii=True).encode()  # spaced, \u-escaped
    jq = subprocess.run(["jq", "-cSj", "."], input=plain, capture_output=True, check=True)
    assert jq.stdout == canonical_json(value)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(json_text, json_values, max_size=4), meta=json_values)
async def test_whatever_is_accepted_reads_back_identically_and_verifies(
    pool: asyncpg.Pool, data: dict[str, Any], meta: Any
) -> None:
    store = EventStore(pool)
    stream_id = f"CASE-{uuid.uuid4()}"
    new = NewEvent(
        event_id=uuid.uuid4(), type="T", schema_version=1, data=data, metadata={"m": meta}
    )
    [recorded] = await store.append(stream_id, 0, [new])
    [stored] = await store.read_stream(stream_id)
    assert stored == recorded
    assert canonical_json(stored.data) == canonical_json(data)
    assert (await store.verify(stream_id)).ok


@pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in ("psql", "jq", "xxd", "sha256sum", "bash")),
    reason="the audit recipe needs psql, jq, xxd, sha256sum and bash",
)
async def test_documented_audit_recipe_recomputes_stored_hashes(
    pool: asyncpg.Pool, database_url: str, db_schema: str
) -> None:
    store = EventStore(pool)
    tricky: dict[str, Any] = {
        "text": 'Ковальчук "Анна"\n\t\x7f\\',
        "n": [-(2**53) + 1, 0, True, None, {}],
    }
    events = [
        NewEvent(event_id=uuid.uuid4(), type="CaseOpened", schema_version=1, data=tricky),
        NewEvent(
            event_id=uuid.uuid4(),
            type="NoteAdded",
            schema_version=2,
            data={"z": {"b": 1, "a": 2}},
            metadata={"actor": "x", "causation_id": str(uuid.uuid4())},
            recorded_at=datetime(2027, 1, 4, 9, 0, 0, 7, tzinfo=UTC),
        ),
        NewEvent(event_id=uuid.uuid4(), type="NoteAdded", schema_version=1, data={}),
    ]
    recorded = await store.append("CASE-1", 0, events)
    docstring = canonical.__doc__ or ""
    recipe = textwrap.dedent(docstring[docstring.index("::\n\n") + 4 :])
    env = os.environ | {"DATABASE_URL": database_url, "PGOPTIONS": f"-c search_path={db_schema}"}
    command = ["bash", "-o", "pipefail", "-c", recipe]
    out = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = [line.split() for line in out.stdout.splitlines()]
    assert lines == [[r.hash.hex(), r.hash.hex(), r.prev_hash.hex()] for r in recorded]
