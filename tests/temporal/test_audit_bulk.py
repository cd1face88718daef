"""Bulk `audit verify`: 1,000 cases verified in one pass, with progress, and one altered byte
in one stored event among them reported at its case and version with a failing exit code.

The cases are only opened (two events, one run each, left running) to keep the test near a
minute of CPU; `bench/audit_verify.py` verifies opened and submitted cases."""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import pytest
from case_system import CaseSystem
from temporalio.testing import WorkflowEnvironment
from test_case_workflow import ANNA
from workers_support import running_workers, signer

from adapters.agreements.catalogue import load_catalogue
from adapters.audit.verify import Verifier
from adapters.db.event_queries import stream_ids
from adapters.db.eventstore import EventStore
from adapters.protection.vault import PersonalDataVault
from adapters.temporal.cases import CaseGateway
from adapters.temporal.codec import Keyring, data_converter
from domain.commands import OpenCase
from domain.values import EvidenceItem, Person
from readmit.cli.audit_verify import verify_cases
from readmit.cli.progress import job_progress

pytestmark = pytest.mark.temporal
CASES = int(os.environ.get("READMIT_TEST_BULK_CASES", "1000"))  # sound ones
TOTAL = CASES + 1
BROKEN = f"PL-UA-2027-{TOTAL // 2:06d}"
KEY = Keyring.new_key()


@pytest.fixture
def keyring() -> Keyring:
    """The test's keyring, from a key this module knows, so that the CLI process can use it."""
    return Keyring.from_encoded({"bulk-1": KEY}, "bulk-1")


@pytest.fixture
async def bulk_system(
    time_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault
) -> AsyncIterator[CaseSystem]:
    """Like `case_system`, but the case worker runs unsandboxed: the same code writes the same
    histories at a third of the CPU, which is what makes 1,000 cases affordable in a test.
    (The verifier still replays them in the sandbox, as production workers run.)"""
    prefix = f"b{secrets.token_hex(4)}"
    client = time_env.client
    gateway = CaseGateway(client, vault=vault, signer=signer(), queue_prefix=prefix)
    async with running_workers(
        client, pool, ("PL", "UA"), master=vault.master, queue_prefix=prefix, sandbox=False
    ):
        with time_env.auto_time_skipping_disabled():
            yield CaseSystem(time_env, client, gateway, EventStore(pool), pool, prefix)


async def open_case(system: CaseSystem, number: int) -> None:
    case_id = f"PL-UA-2027-{number:06d}"
    at = await system.env.get_current_time()
    command = OpenCase(
        at=at,
        case_id=case_id,
        terms=load_catalogue().terms("EU-UA", "PL", "UA"),
        category="third_country_national",  # opened with its submission window: 2 events
        person=Person(surname="Shevchenko", given_names="Oleksandr", birth_date=date(1990, 5, 17)),
        evidence=(EvidenceItem(kind="passport", number=f"FA{number:06d}"),),
        knowledge_at=at - timedelta(days=1),
    )
    await system.gateway.open(command, ANNA, request_id=f"open-{case_id}")


async def many_cases(system: CaseSystem, count: int, concurrency: int = 48) -> None:
    numbers = iter(range(1, count + 1))

    async def lane() -> None:
        for number in numbers:
            await open_case(system, number)

    await asyncio.gather(*(lane() for _ in range(concurrency)))


async def alter_one_byte(system: CaseSystem, case_id: str, version: int) -> None:
    """'anna.pl' -> 'anna.pk' in the actor of one stored event, behind the store's back."""
    async with system.pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE case_events DISABLE TRIGGER case_events_no_update_delete")
        changed = await conn.execute(
            "UPDATE case_events SET metadata = jsonb_set(metadata, '{actor}', '\"anna.pk\"')"
            " WHERE stream_id = $1 AND version = $2 AND metadata->>'actor' = 'anna.pl'",
            case_id,
            version,
        )
        await conn.execute("ALTER TABLE case_events ENABLE TRIGGER case_events_no_update_delete")
    assert changed == "UPDATE 1"


async def test_bulk_verify_of_many_cases_reports_the_one_altered(
    bulk_system: CaseSystem, keyring: Keyring, schema_dsn: str, tmp_path: Path
) -> None:
    await many_cases(bulk_system, TOTAL)
    await alter_one_byte(bulk_system, BROKEN, 2)
    total = await bulk_system.store.count_streams()
    assert total == TOTAL

    verifier = Verifier(bulk_system.store, bulk_system.client, data_converter(keyring))
    out, err = io.StringIO(), io.StringIO()
    code = await verify_cases(
        verifier, stream_ids(bulk_system.pool, page=300), total, out=out, err=err, terminal=False
    )
    printed = out.getvalue().splitlines()
    assert code == 1, printed
    [failure, summary] = printed  # only the failure has a line of its own
    assert failure.startswith(f"FAIL {BROKEN}  chain: broken at version 2: hash does not match")
    assert "replay: 1 run(s) replay deterministically" in failure
    assert summary.startswith(f"{TOTAL} verified, 1 failed in ")  # all {CASES} others pass
    progress = err.getvalue().splitlines()
    assert len(progress) >= 10, progress  # a line per tenth at least
    assert progress[-1].startswith(f"verifying: {TOTAL}/{TOTAL} (100%), 1 failed, ")
    assert all("cases/s, ETA" in line for line in progress)

    # the installed command, as an operator runs it, on the broken case and a sound one
    sound = f"PL-UA-2027-{1:06d}"
    env = {
        **os.environ,
        "DATABASE_URL": schema_dsn,
        "READMIT_HOME": str(tmp_path),
        "READMIT_PAYLOAD_KEYS": json.dumps({"bulk-1": KEY}),
        "READMIT_PAYLOAD_KEY_ID": "bulk-1",
        "READMIT_TEMPORAL_ADDRESS": bulk_system.client.service_client.config.target_host,
    }
    command = [sys.executable, "-m", "readmit.cli.main", "audit", "verify", "--json", BROKEN, sound]
    result = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert not document["ok"] and document["summary"]["verified"] == 2
    [good, bad] = document["cases"]  # named cases are all reported, in id order
    assert good["case_id"] == sound and good["ok"] and good["events"] == 2
    assert (bad["case_id"], bad["ok"], bad["chain"]["ok"]) == (BROKEN, False, False)
    assert bad["chain"]["detail"].startswith("broken at version 2")
    assert bad["replay"]["ok"] and bad["store_matches_workflow"]["ok"]


def test_on_a_terminal_the_progress_is_a_bar_with_counts_rate_and_eta() -> None:
    screen = io.StringIO()
    with job_progress(screen, 3, "verifying", "cases", terminal=True) as progress:
        for ok in (True, False, True):
            progress.advance(ok)
    final = screen.getvalue().splitlines()[-1]
    assert final.startswith("verifying ━") and " 3/3 1 failed " in final, final
    assert " cases/s " in final and " ETA " in final, final
