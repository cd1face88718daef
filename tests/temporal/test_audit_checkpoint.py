"""Anchored history, as an operator runs it: `readmit audit checkpoint` signs every case's head
into a file; later a database superuser rewrites an event (recomputing the chain), cuts a
case's tail and deletes a case; `readmit audit verify --all` alone passes the rewrite and never
sees the deleted case, `verify --all --checkpoint` reports all three with case and version."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from case_system import CaseSystem
from tampering import delete_stream, rewrite_event, truncate_tail
from test_case_workflow import OLENA, now, submitted_and_received

from adapters.audit.bundle import signing_key_from
from adapters.audit.checkpoint import read_checkpoint
from adapters.audit.verify import Verifier, with_lost_streams
from adapters.db.event_queries import stream_ids
from adapters.db.eventstore import EventStore
from adapters.encoding import public_key_text
from adapters.temporal.codec import Keyring, data_converter
from domain.commands import AcceptApplication
from domain.stored import NewEvent
from readmit.cli.audit_verify import verify_cases

pytestmark = pytest.mark.temporal
SEED = base64.b64encode(os.urandom(32)).decode()
PAYLOAD_KEY = Keyring.new_key()


@pytest.fixture
def keyring() -> Keyring:
    """The test's keyring, from a key this module knows, so that the CLI process can use it."""
    return Keyring.from_encoded({"anchor-1": PAYLOAD_KEY}, "anchor-1")


def note() -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), type="NoteAdded", schema_version=1, data={"n": 1})


def readmit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "readmit.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(readmit, env, *args)


async def failing_cases(verifier: Verifier, system: CaseSystem) -> dict[str, Any]:
    """Plain `audit verify --all` (the function behind it): the reports of the failing cases."""
    failed: dict[str, Any] = {}

    def keep(report: Any) -> None:
        if not report.ok:
            failed[report.case_id] = report

    await verifier.run(stream_ids(system.pool), keep)
    return failed


def findings(document: dict[str, Any]) -> dict[str, Sequence[tuple[str, int]]]:
    return {
        case["case_id"]: [(f["kind"], f["version"]) for f in case["checkpoint"]["findings"]]
        for case in document["cases"]
    }


async def test_a_checkpoint_reveals_what_a_superuser_did_to_history(
    case_system: CaseSystem, keyring: Keyring, schema_dsn: str, tmp_path: Path
) -> None:
    rewritten, truncated, deleted, extended = [
        await submitted_and_received(case_system) for _ in range(4)
    ]
    await asyncio.sleep(0.5)  # let the identity verifications be recorded
    env = {
        **os.environ,
        "DATABASE_URL": schema_dsn,
        "READMIT_HOME": str(tmp_path),
        "READMIT_AUDIT_SIGNING_KEY": SEED,
        "READMIT_PAYLOAD_KEYS": json.dumps({"anchor-1": PAYLOAD_KEY}),
        "READMIT_PAYLOAD_KEY_ID": "anchor-1",
        "READMIT_TEMPORAL_ADDRESS": case_system.client.service_client.config.target_host,
    }
    checkpoint_file = tmp_path / "checkpoint.json"
    taken = await run(env, "audit", "checkpoint", "--out", str(checkpoint_file))
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.startswith("checkpoint of 4 case(s), ")
    assert "checkpointing: 4/4 (100%)" in taken.stderr  # progress, as plain lines off a terminal
    again = await run(env, "audit", "checkpoint", "--out", str(checkpoint_file))
    assert (again.returncode, again.stderr.count("\n")) == (2, 1)
    assert "exists: a checkpoint is never overwritten" in again.stderr
    key = signing_key_from(SEED)
    checkpoint = read_checkpoint(checkpoint_file.read_bytes(), key.public_key())
    head = {case_id: h.version for case_id, h in checkpoint.streams.items()}

    # history goes on after the checkpoint: it only extends the heads
    await case_system.gateway.execute(extended, AcceptApplication(at=await now(case_system)), OLENA)
    sound = await run(env, "audit", "verify", "--all", "--checkpoint", str(checkpoint_file))
    assert sound.returncode == 0, sound.stdout + sound.stderr
    assert sound.stdout.startswith("4 verified, 0 failed in ")
    assert f"against the checkpoint of {checkpoint.created_at}" in sound.stdout

    await rewrite_event(case_system.pool, rewritten, 1, category="third_country_national")
    await truncate_tail(case_system.pool, truncated, keep=2)
    await delete_stream(case_system.pool, deleted)

    # without the anchor: every chain recomputes, the rewritten case replays and agrees with its
    # workflow (which recorded event ids, not contents), the deleted case is not listed at all;
    # only the cut tail shows, as a disagreement with the workflow history that Temporal keeps
    # for a while (the namespace's retention), never in the chain
    plain = Verifier(case_system.store, case_system.client, data_converter(keyring))
    failed = await failing_cases(plain, case_system)
    assert list(failed) == [truncated]
    assert failed[truncated].chain_ok and failed[truncated].replay_ok
    assert not failed[truncated].agree_ok

    anchored = await run(
        env, "audit", "verify", "--all", "--json", "--checkpoint", str(checkpoint_file)
    )
    assert anchored.returncode == 1, anchored.stderr
    document = json.loads(anchored.stdout)
    assert document["summary"]["verified"] == 4 and document["summary"]["failed"] == 3
    assert findings(document) == {
        rewritten: [("rewritten", head[rewritten])],
        truncated: [("truncated", 3)],
        deleted: [("deleted", 1)],
    }
    by_case = {case["case_id"]: case for case in document["cases"]}
    assert by_case[rewritten]["chain"]["ok"] and by_case[rewritten]["replay"]["ok"]
    assert by_case[rewritten]["store_matches_workflow"]["ok"]
    assert by_case[deleted]["checkpoint"]["detail"].startswith("deleted: no events stored")

    # the same in lines, through the function behind the command
    against = Verifier(
        case_system.store, case_system.client, data_converter(keyring), checkpoint=checkpoint
    )
    ids, lost = await with_lost_streams(case_system.store, stream_ids(case_system.pool), checkpoint)
    out, err = io.StringIO(), io.StringIO()
    assert await verify_cases(against, ids, 3 + lost, out=out, err=err, terminal=False) == 1
    [line] = [line for line in out.getvalue().splitlines() if line.startswith(f"FAIL {rewritten}")]
    assert f"checkpoint: rewritten at or before version {head[rewritten]}: " in line


async def test_a_checkpoint_signed_by_another_key_or_altered_is_refused(
    pool: asyncpg.Pool, schema_dsn: str, tmp_path: Path
) -> None:
    await EventStore(pool).append("PL-UA-2027-000001", 0, [note()])
    env = {
        **os.environ,
        "DATABASE_URL": schema_dsn,
        "READMIT_HOME": str(tmp_path),
        "READMIT_AUDIT_SIGNING_KEY": SEED,
        "READMIT_TEMPORAL_ADDRESS": "127.0.0.1:1",  # refused before it is needed
    }
    checkpoint_file = tmp_path / "checkpoint.json"
    assert (await run(env, "audit", "checkpoint", "--out", str(checkpoint_file))).returncode == 0
    public = public_key_text(signing_key_from(SEED))
    checked = await run(env, "audit", "check-checkpoint", str(checkpoint_file), "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["public_key"] == public and '"cases": 1' in checked.stdout

    other = public_key_text(signing_key_from(base64.b64encode(os.urandom(32)).decode()))
    refused = await run(
        env, "audit", "verify", "--all", "--checkpoint", str(checkpoint_file), "--public-key", other
    )
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "not by the expected key" in refused.stderr

    document = json.loads(checkpoint_file.read_bytes())
    document["checkpoint"]["streams"] = []
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(document))
    refused = await run(env, "audit", "check-checkpoint", str(altered), "--public-key", public)
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith(
        "the signature does not match: the checkpoint was altered"
    )
    missing = await run(env, "audit", "verify", "--all", "--checkpoint", str(tmp_path / "none"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
