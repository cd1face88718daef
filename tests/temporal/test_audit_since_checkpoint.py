"""`audit verify --all --checkpoint` skips the cases whose head is still the one the checkpoint
signed, says how many and why, and verifies every case that moved since; `--full` re-verifies
the skipped ones too, and `--jobs 2` gives the same verdicts from two processes. An event
edited in place (its stored hash left alone) inside a covered case is found with `--full`; one
after the checkpoint is found by default. `--sandbox` replays in Temporal's sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from case_system import CaseSystem
from test_audit_checkpoint import PAYLOAD_KEY, SEED, keyring  # noqa: F401 (a fixture)
from test_case_workflow import OLENA, now, submitted_and_received

from domain.commands import AcceptApplication

pytestmark = pytest.mark.temporal


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


async def edit_in_place(pool: asyncpg.Pool, case_id: str, version: int) -> None:
    """Change an event's data behind the store's back, leaving every stored hash as it was."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        done = await conn.execute(
            "UPDATE case_events SET data = data || '{\"edited\": true}'::jsonb"
            " WHERE stream_id = $1 AND version = $2",
            case_id,
            version,
        )
    assert done == "UPDATE 1"


async def last_version(pool: asyncpg.Pool, case_id: str) -> int:
    version = await pool.fetchval(
        "SELECT max(version) FROM case_events WHERE stream_id = $1", case_id
    )
    return int(version)


def failures(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    document = json.loads(result.stdout)
    return {c["case_id"]: c["chain"]["detail"] for c in document["cases"] if not c["ok"]}


async def test_covered_cases_are_skipped_unless_full_and_later_events_are_verified(
    case_system: CaseSystem, schema_dsn: str, tmp_path: Path
) -> None:
    covered, moved, untouched = [await submitted_and_received(case_system) for _ in range(3)]
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
    checkpoint = str(tmp_path / "checkpoint.json")
    taken = await run(env, "audit", "checkpoint", "--out", checkpoint)
    assert taken.returncode == 0, taken.stderr
    covered_head = await last_version(case_system.pool, covered)

    await case_system.gateway.execute(moved, AcceptApplication(at=await now(case_system)), OLENA)
    sound = await run(env, "audit", "verify", "--all", "--checkpoint", checkpoint)
    assert sound.returncode == 0, sound.stdout + sound.stderr
    assert sound.stdout.startswith("3 verified, 0 failed in ")
    assert "\n2 of them skipped: their stored head is the one the checkpoint signed" in sound.stdout
    assert "--full re-verifies them" in sound.stdout

    await edit_in_place(case_system.pool, covered, covered_head - 1)
    await edit_in_place(case_system.pool, moved, await last_version(case_system.pool, moved))

    default = await run(env, "audit", "verify", "--all", "--json", "--checkpoint", checkpoint)
    assert default.returncode == 1, default.stderr
    assert list(failures(default)) == [moved]  # the edit after the checkpoint
    summary = json.loads(default.stdout)["summary"]
    assert (summary["verified"], summary["failed"], summary["skipped"]["cases"]) == (3, 1, 2)

    full = await run(
        env, "audit", "verify", "--all", "--json", "--full", "--checkpoint", checkpoint
    )
    assert full.returncode == 1, full.stderr
    found = failures(full)
    assert sorted(found) == sorted([covered, moved])  # the covered edit too
    assert found[covered] == (
        f"broken at version {covered_head - 1}: hash does not match the event's contents"
    )
    assert json.loads(full.stdout)["summary"]["skipped"]["cases"] == 0

    # the same over two worker processes: the same cases, the same verdicts, the same exit code
    spread = await run(
        env,
        "audit",
        "verify",
        "--all",
        "--json",
        "--full",
        "--jobs",
        "2",
        "--checkpoint",
        checkpoint,
    )
    assert spread.returncode == 1, spread.stderr
    assert failures(spread) == found
    assert json.loads(spread.stdout)["summary"]["verified"] == 3
    refused = await run(env, "audit", "verify", "--all", "--jobs", "2", "--peer")
    assert refused.returncode == 2 and refused.stdout == ""
    assert "--jobs verifies in separate processes" in refused.stderr

    sandboxed = await run(env, "audit", "verify", "--sandbox", untouched)
    assert sandboxed.returncode == 0, sandboxed.stdout + sandboxed.stderr
    assert "replay: 1 run(s) replay deterministically" in sandboxed.stdout
