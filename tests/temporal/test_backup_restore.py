"""A tested restore (issue 18), as docs/operations.md tells an operator to run it: cases with
history, a signed checkpoint, `pg_dump`, one more case opened after the dump, `pg_restore` into
an empty database; then `readmit audit verify --all --checkpoint` passes against the restored
database, the projection rebuilt there from the event store gives the same `cases` rows and
person index as before the dump, and opening a case on the restored database takes a number
past the workflow Temporal kept from after the dump. A case that then moves on in Temporal
alone, as one would after an older dump, is named by `audit verify --all`."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from case_system import CaseSystem
from pg_client_tools import client_tool
from test_case_numbers_after_restore import PREFIX, opening
from test_case_workflow import ANNA, OLENA, now
from workers_support import running_workers, signer

from adapters.db.pool import connect, create_pool, quote_ident
from adapters.db.projector import CaseProjector
from adapters.protection.blind_index import BlindIndex
from adapters.protection.vault import PersonalDataVault
from adapters.temporal.case_numbers import fresh_case_id
from adapters.temporal.cases import CaseGateway
from adapters.temporal.codec import Keyring
from domain.commands import AcceptApplication, ConfirmReceipt, SubmitApplication

pytestmark = pytest.mark.temporal
SEED = base64.b64encode(os.urandom(32)).decode()
PAYLOAD_KEY = Keyring.new_key()
SEARCH_INDEX = BlindIndex(bytes(range(32)))
STATES = ("PL", "UA")


@pytest.fixture
def keyring() -> Keyring:
    """The test's keyring, from a key this module knows, so that the CLI process can use it."""
    return Keyring.from_encoded({"restore-1": PAYLOAD_KEY}, "restore-1")


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


def tool(name: str, *args: str) -> None:
    done = subprocess.run([name, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{Path(name).name}: {done.stderr}"


async def rows(pool: asyncpg.Pool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The projection as a reader sees it: every `cases` row, every person-index row."""
    cases = await pool.fetch("SELECT * FROM cases ORDER BY case_id")
    index = await pool.fetch("SELECT * FROM person_index ORDER BY case_id, kind, hash")
    return [dict(r) for r in cases], [dict(r) for r in index]


async def with_history(system: CaseSystem, accept: bool) -> str:
    case_id = await fresh_case_id(system.pool, system.client, "PL", "UA", 2027)
    await system.gateway.open(await opening(system, case_id), ANNA)
    at = await now(system)
    await system.gateway.execute(case_id, SubmitApplication(at=at), ANNA)
    await system.gateway.execute(case_id, ConfirmReceipt(at=at), OLENA)
    # the identity check runs after receipt and is recorded only while no reply came: wait for
    # it, so that an acceptance never races it (and nothing is appended after the snapshot)
    await verified_identities(system, [case_id])
    if accept:
        await system.gateway.execute(case_id, AcceptApplication(at=at), OLENA)
    return case_id


async def verified_identities(system: CaseSystem, case_ids: list[str]) -> None:
    """Wait until each case recorded its identity verification (an activity after receipt),
    so that nothing is appended between the snapshot of the rows and the dump."""
    for _ in range(1200):  # a full suite on two shared cores can take a while
        streams = [await system.store.read_stream(c) for c in case_ids]
        if all(any(r.type == "VerificationRecorded" for r in s) for s in streams):
            return
        await asyncio.sleep(0.1)
    pytest.fail("the identity verifications were not recorded within 120 s")


@pytest.fixture
async def empty_database(database_url: str) -> AsyncIterator[str]:
    """A DSN of a new, empty database on the test's server, dropped after the test."""
    name = f"restore_{secrets.token_hex(6)}"
    conn = await connect(database_url)
    try:
        await conn.execute(f"CREATE DATABASE {quote_ident(name)}")
    finally:
        await conn.close()
    base, _, query = database_url.partition("?")
    yield base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    conn = await connect(database_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
    finally:
        await conn.close()


async def test_a_dump_restores_into_an_empty_database_that_verifies_and_rebuilds(
    case_system: CaseSystem,
    vault: PersonalDataVault,
    master_keyring: Keyring,
    database_url: str,
    db_schema: str,
    schema_dsn: str,
    empty_database: str,
    tmp_path: Path,
) -> None:
    system = case_system
    cases = [await with_history(system, accept=n % 2 == 0) for n in range(3)]
    projector = CaseProjector(system.pool, vault=vault, index=SEARCH_INDEX)
    await projector.catch_up()
    before = await rows(system.pool)
    assert [r["case_id"] for r in before[0]] == cases and before[1]

    env = {
        **os.environ,
        "READMIT_HOME": str(tmp_path),
        "READMIT_AUDIT_SIGNING_KEY": SEED,
        "READMIT_PAYLOAD_KEYS": json.dumps({"restore-1": PAYLOAD_KEY}),
        "READMIT_PAYLOAD_KEY_ID": "restore-1",
        "READMIT_TEMPORAL_ADDRESS": system.client.service_client.config.target_host,
    }
    checkpoint = tmp_path / "checkpoint.json"
    taken = await run(
        {**env, "DATABASE_URL": schema_dsn}, "audit", "checkpoint", "--out", str(checkpoint)
    )
    assert taken.returncode == 0, taken.stderr

    major = int(await system.pool.fetchval("SHOW server_version_num")) // 10000
    dump = tmp_path / "readmit.dump"
    tool(str(client_tool("pg_dump", major)), "-Fc", "-n", db_schema, "-f", str(dump), database_url)
    # Temporal goes on after the dump: a case the restored database will not know
    after_dump = await with_history(system, accept=False)
    await verified_identities(system, [after_dump])
    assert after_dump == f"{PREFIX}-000004"

    tool(str(client_tool("pg_restore", major)), "--exit-on-error", "-d", empty_database, str(dump))
    restored_dsn = f"{empty_database}{'&' if '?' in empty_database else '?'}search_path={db_schema}"
    restored = await create_pool(restored_dsn, min_size=1, max_size=10)
    try:
        verified = await run(
            {**env, "DATABASE_URL": restored_dsn},
            "audit",
            "verify",
            "--all",
            "--checkpoint",
            str(checkpoint),
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert verified.stdout.startswith("3 verified, 0 failed in "), verified.stdout

        # the projection, thrown away and folded again from the restored event store
        restored_vault = PersonalDataVault(restored, master_keyring)
        rebuilt = CaseProjector(restored, vault=restored_vault, index=SEARCH_INDEX)
        await rebuilt.rebuild()
        assert await rows(restored) == before

        # the restored installation opens cases again, past the workflow opened after the dump
        prefix = f"r{secrets.token_hex(4)}"
        gateway = CaseGateway(
            system.client, vault=restored_vault, signer=signer(), queue_prefix=prefix
        )
        async with running_workers(
            system.client, restored, STATES, master=master_keyring, queue_prefix=prefix
        ):
            case_id = await fresh_case_id(restored, system.client, "PL", "UA", 2027)
            assert case_id == f"{PREFIX}-000005"
            result = await gateway.open(await opening(system, case_id), ANNA)
            assert result.status == "draft"
        verified = await run(
            {**env, "DATABASE_URL": restored_dsn},
            "audit",
            "verify",
            "--all",
            "--checkpoint",
            str(checkpoint),
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert verified.stdout.startswith("4 verified, 0 failed in "), verified.stdout

        # a case moving on in Temporal alone (as one would after the dump): the restored
        # database is behind its workflow, and `audit verify --all` names it
        await system.gateway.execute(cases[1], AcceptApplication(at=await now(system)), OLENA)
        behind = await run({**env, "DATABASE_URL": restored_dsn}, "audit", "verify", "--all")
        assert behind.returncode == 1, behind.stdout + behind.stderr
        failed = [line for line in behind.stdout.splitlines() if line.startswith("FAIL ")]
        assert len(failed) == 1 and failed[0].startswith(f"FAIL {cases[1]} "), behind.stdout
        assert "store vs workflow: store has 6 events, workflow appended 8" in failed[0]
        assert "4 verified, 1 failed in " in behind.stdout
    finally:
        await restored.close()
