"""Audits: signed bundles checked offline, and `audit verify` catching unpatched code changes."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from case_system import CaseSystem
from changed_workflow import ChangedWithoutPatch
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_case_workflow import OLENA, now, submitted_and_received

from adapters.audit.bundle import check_bundle, signing_key_from, write_bundle
from adapters.audit.collect import collect_for_export
from adapters.audit.verify import Verifier
from adapters.temporal.codec import Keyring, data_converter
from api.auth import issue_dev_token
from domain.commands import AcceptApplication, ExtendReplyLimit

pytestmark = pytest.mark.temporal
SEED = base64.b64encode(os.urandom(32)).decode()


async def exported(system: CaseSystem, out: Path) -> tuple[str, Ed25519PrivateKey]:
    case_id = await submitted_and_received(system)
    await system.gateway.execute(case_id, AcceptApplication(at=await now(system)), OLENA)
    key = signing_key_from(SEED)
    cases = await collect_for_export(system.pool, system.gateway.vault, [case_id], "audit.pl")
    write_bundle(out, cases, key, "audit.pl")
    return case_id, key


async def test_bundle_checks_offline_and_any_change_is_caught(
    case_system: CaseSystem, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    case_id, key = await exported(case_system, bundle)
    report = check_bundle(bundle, key.public_key())
    assert report.ok, report.problems
    assert report.cases == [case_id]
    logged = await case_system.pool.fetchval(
        "SELECT count(*) FROM disclosure_log WHERE case_id = $1 AND purpose = 'export'", case_id
    )
    assert logged == 1
    files = sorted(p for p in bundle.rglob("*") if p.is_file())
    assert len(files) == 6
    personal = json.loads((bundle / "cases" / case_id / "personal.json").read_text())
    assert personal["erased"] is False and personal["person"]["surname"]
    assert "sealed" not in (bundle / "cases" / case_id / "personal.json").read_text()
    for target in files:
        copy = tmp_path / f"altered-{target.name}-{files.index(target)}"
        shutil.copytree(bundle, copy)
        altered = copy / target.relative_to(bundle)
        content = bytearray(altered.read_bytes())
        middle = len(content) // 2
        content[middle] = (content[middle] + 1) % 256
        altered.write_bytes(bytes(content))
        result = check_bundle(copy, key.public_key())
        assert not result.ok, f"a changed byte in {target.name} went unnoticed"
    # a file slipped into the bundle is caught as well
    (bundle / "cases" / case_id / "note.txt").write_text("added later")
    assert not check_bundle(bundle, key.public_key()).ok
    # and another key does not vouch for it
    assert not check_bundle(bundle, Ed25519PrivateKey.generate().public_key()).ok


async def test_audit_verify_passes_and_catches_an_unpatched_change(
    case_system: CaseSystem, keyring: Keyring
) -> None:
    case_id = await submitted_and_received(case_system)
    await case_system.gateway.execute(
        case_id, ExtendReplyLimit(at=await now(case_system), reasons=("interview",)), OLENA
    )
    await asyncio.sleep(0.5)  # let the identity verification be recorded
    converter = data_converter(keyring)
    verifier = Verifier(case_system.store, case_system.client, converter)
    report = await verifier.verify(case_id)
    assert report.ok, report.as_dict()
    assert report.events == len(await case_system.store.read_stream(case_id))
    changed = Verifier(
        case_system.store, case_system.client, converter, workflows=[ChangedWithoutPatch]
    )
    broken = await changed.verify(case_id)
    assert broken.chain_ok and broken.agree_ok and not broken.replay_ok
    assert "non-deterministic" in broken.replay_detail


JWT_SECRET = "test-secret-for-the-audit-cli-only-0123456789"


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "readmit.cli.main", "audit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def cli_env(schema_dsn: str, master_keys: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "READMIT_TOKEN"}
    return {
        **env,
        "DATABASE_URL": schema_dsn,
        "READMIT_MASTER_KEYS": json.dumps(master_keys),
        "READMIT_JWT_SECRET": JWT_SECRET,
        "READMIT_AUDIT_SIGNING_KEY": SEED,
        **extra,
    }


def token(user: str, role: str, state: str | None = None, states: tuple[str, ...] = ()) -> str:
    return issue_dev_token(JWT_SECRET, user=user, role=role, state=state, states=states)  # type: ignore[arg-type]


async def test_cli_replay_shows_the_case_as_it_was_and_logs_the_tokens_auditor(
    case_system: CaseSystem, schema_dsn: str, master_keys: dict[str, str]
) -> None:
    case_id = await submitted_and_received(case_system)
    auditor = token("audit.pl", "auditor", states=("PL",))
    env = cli_env(schema_dsn, master_keys, READMIT_TOKEN=auditor)

    def replay(*args: str) -> dict[str, Any]:
        done = cli(env, "replay", case_id, *args, "--json")
        assert done.returncode == 0, done.stderr
        replayed: dict[str, Any] = json.loads(done.stdout)
        return replayed

    first = replay("--version", "1")
    assert first["version"] == 1 and first["state"]["status"] == "draft"
    assert first["state"]["person"]["surname"] == "Shevchenko"  # opened with the case key
    assert [e["type"] for e in first["timeline"]] == ["CaseOpened"]
    assert first["officers_saw"]["requesting_officer"]["next_actions"]
    latest = replay()
    assert latest["state"]["status"] == "received" and latest["deadlines_as_set"]
    logged = await case_system.pool.fetch(
        "SELECT user_id, role FROM disclosure_log WHERE case_id = $1 AND purpose = 'replay'",
        case_id,
    )
    assert [tuple(r) for r in logged] == [("audit.pl", "auditor")] * 2
    await case_system.gateway.vault.erase([case_id], await now(case_system), "test")
    assert replay()["state"]["person"] == {"erased": True}


async def test_the_cli_takes_the_auditor_from_a_verified_token_not_from_a_name(
    case_system: CaseSystem, schema_dsn: str, master_keys: dict[str, str], tmp_path: Path
) -> None:
    case_id = await submitted_and_received(case_system)
    reason = ExtendReplyLimit(at=await now(case_system), reasons=("his wife is in hospital",))
    await case_system.gateway.execute(case_id, reason, OLENA)
    env = cli_env(schema_dsn, master_keys)
    bundle = tmp_path / "bundle"

    missing = cli(env, "export", case_id, "--out", str(bundle))
    assert missing.returncode == 2 and "READMIT_TOKEN" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and missing.stdout == ""
    named = cli(env, "export", case_id, "--out", str(bundle), "--as", "somebody.else")
    assert named.returncode == 2  # there is no --as: a name typed is no identity
    forged = issue_dev_token(  # the right claims, signed by a key the app does not trust
        "not-the-apps-secret-0123456789-0123456789", user="audit.pl", role="auditor",
        state=None, states=("PL",),
    )  # fmt: skip
    officer = token("anna.pl", "officer", "PL")
    for bad, code in ((forged, 2), ("garbage", 2), (officer, 1)):
        refused = cli(env, "export", case_id, "--out", str(bundle), "--token", bad)
        assert refused.returncode == code, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    md = cli(
        env,
        "export",
        case_id,
        "--out",
        str(bundle),
        "--token",
        token("a.md", "auditor", states=("MD",)),
    )
    assert md.returncode == 1 and f"no case {case_id}" in md.stderr  # not its case: unknown
    assert not bundle.exists()
    assert not await case_system.pool.fetchval("SELECT count(*) FROM disclosure_log")

    auditor = token("audit.ua", "auditor", states=("UA",))
    done = cli(env, "export", case_id, "--out", str(bundle), "--token", auditor)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["exported_by"] == "audit.ua"
    personal = json.loads((bundle / "cases" / case_id / "personal.json").read_text())
    assert [t["reasons"] for t in personal["texts"]] == [["his wife is in hospital"]]
    events = (bundle / "cases" / case_id / "events.jsonl").read_text()
    assert "hospital" not in events  # the events hold the seal
    logged = await case_system.pool.fetch(
        "SELECT user_id, role, purpose FROM disclosure_log WHERE case_id = $1", case_id
    )
    assert [tuple(r) for r in logged] == [("audit.ua", "auditor", "export")]
