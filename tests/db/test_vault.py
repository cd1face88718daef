"""Case data keys in PostgreSQL: created once, erased for good, re-wrapped without downtime."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import asyncpg
import pytest

from adapters.protection.vault import DataErased, PersonalDataVault
from adapters.temporal.codec import Keyring, KeyringError
from domain.values import Person

AT = datetime(2030, 1, 1, tzinfo=UTC)
PERSON = Person(surname="Kovalenko", given_names="Oksana", birth_date=date(1991, 4, 12))


def keyring(*ids: str, active: str | None = None) -> Keyring:
    return Keyring({i: KEYS[i] for i in ids}, active or ids[-1], what="master")


KEYS = {name: os.urandom(32) for name in ("m1", "m2")}


async def test_concurrent_opens_of_one_case_agree_on_one_key(pool: asyncpg.Pool) -> None:
    vault = PersonalDataVault(pool, keyring("m1"))
    sealers = await asyncio.gather(*(vault.create("PL-UA-2027-000001") for _ in range(8)))
    sealed = sealers[0].seal_person(PERSON)
    assert all(s.open_person(sealed) == PERSON for s in sealers)
    assert await pool.fetchval("SELECT count(*) FROM case_keys") == 1
    row = await pool.fetchrow("SELECT master_key_id, wrapped FROM case_keys")
    assert row is not None
    assert row["master_key_id"] == "m1" and len(row["wrapped"]) == 12 + 32 + 16


async def test_an_erased_key_is_gone_for_good(pool: asyncpg.Pool) -> None:
    vault = PersonalDataVault(pool, keyring("m1"))
    case_id = "PL-UA-2027-000002"
    sealed = (await vault.create(case_id)).seal_person(PERSON)
    assert await vault.erase([case_id], AT, "retention period ended") == [case_id]
    assert await vault.erase([case_id], AT, "again") == []  # erased once only
    with pytest.raises(DataErased, match=case_id):
        await vault.sealer(case_id)
    with pytest.raises(DataErased):
        await vault.create(case_id)  # opening it again cannot bring a key back
    status = await vault.status(case_id)
    assert status.erased_at == AT and status.erasure_reason == "retention period ended"
    row = await pool.fetchrow("SELECT master_key_id, wrapped FROM case_keys")
    assert row is not None
    assert row["wrapped"] is None and row["master_key_id"] is None
    # not even a direct UPDATE gives an erased row key material again
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="erased"):
        await pool.execute(
            "UPDATE case_keys SET wrapped = $2, master_key_id = 'm1', erased_at = NULL"
            " WHERE case_id = $1",
            case_id,
            os.urandom(60),
        )
    assert sealed.sealed  # the seal itself is still there, and opens for nobody


async def test_master_key_rotation_rewraps_while_readers_keep_reading(pool: asyncpg.Pool) -> None:
    old = PersonalDataVault(pool, keyring("m1"))
    cases = [f"PL-UA-2027-{n:06d}" for n in range(1, 301)]
    seals = {}
    for case_id in cases:
        seals[case_id] = (await old.create(case_id)).seal_person(PERSON)
    await old.erase([cases[0]], AT, "test")  # erased keys are left alone

    # every process gets the keyring {m1, m2}, m2 active; then the keys are re-wrapped
    both = PersonalDataVault(pool, keyring("m1", "m2"))
    stop = asyncio.Event()
    reads = 0

    async def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            for case_id in cases[1::37]:
                sealer = await both.sealer(case_id)
                assert sealer is not None and sealer.open_person(seals[case_id]) == PERSON
                reads += 1

    readers = [asyncio.create_task(reader()) for _ in range(3)]
    batches: list[int] = []
    assert await both.to_rewrap() == len(cases) - 1
    rewrapped = await both.rewrap(batch=40, on_batch=batches.append)
    stop.set()
    await asyncio.gather(*readers)
    assert rewrapped == len(cases) - 1 and reads > 0
    assert sum(batches) == len(cases) - 1 and max(batches) <= 40
    assert await both.to_rewrap() == 0
    assert await both.rewrap() == 0  # nothing left under m1

    # m1 can now be retired: the keyring {m2} alone opens every case
    new = PersonalDataVault(pool, keyring("m2"))
    for case_id in cases[1:]:
        sealer = await new.sealer(case_id)
        assert sealer is not None and sealer.open_person(seals[case_id]) == PERSON
    # whereas before the re-wrap, retiring m1 would have locked the data out, clearly
    await PersonalDataVault(pool, keyring("m1")).create("PL-UA-2027-999999")
    with pytest.raises(KeyringError, match="unknown key 'm1'"):
        await new.sealer("PL-UA-2027-999999")


def cli(
    dsn: str, *args: str, keys: dict[str, bytes], active: str
) -> subprocess.CompletedProcess[str]:
    encoded = {k: base64.urlsafe_b64encode(v).decode() for k, v in keys.items()}
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "READMIT_MASTER_KEYS": json.dumps(encoded),
        "READMIT_MASTER_KEY_ID": active,
    }
    return subprocess.run(
        [sys.executable, "-m", "readmit.cli.main", "privacy", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_cli_rotates_the_master_key_and_reports_erasures(
    pool: asyncpg.Pool, schema_dsn: str
) -> None:
    old = PersonalDataVault(pool, keyring("m1"))
    seals = {}
    for n in range(1, 21):
        case_id = f"PL-UA-2027-{n:06d}"
        seals[case_id] = (await old.create(case_id)).seal_person(PERSON)
    await old.erase(["PL-UA-2027-000001"], AT, "court order 12/2030")

    rotated = cli(schema_dsn, "rewrap", "--batch", "7", keys=KEYS, active="m2")
    assert rotated.returncode == 0, rotated.stderr
    assert "19 data key(s) re-wrapped under master key 'm2'" in rotated.stdout
    # progress, when not on a terminal: plain lines ending with the final count
    assert "re-wrapping data keys: 19/19 (100%), 0 failed" in rotated.stderr
    new = PersonalDataVault(pool, keyring("m2"))
    for case_id in list(seals)[1:]:
        sealer = await new.sealer(case_id)
        assert sealer is not None and sealer.open_person(seals[case_id]) == PERSON

    shown = cli(schema_dsn, "status", "PL-UA-2027-000001", "--json", keys=KEYS, active="m2")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["reason"] == "court order 12/2030"
    missing = cli(schema_dsn, "status", "PL-UA-2027-999999", keys=KEYS, active="m2")
    assert missing.returncode == 1 and "key=none" in missing.stdout
    # a keyring that lacks the master key a row names is refused, with the fix in one line
    locked = cli(schema_dsn, "rewrap", keys={"m3": os.urandom(32)}, active="m3")
    assert locked.returncode == 1 and "READMIT_MASTER_KEYS" in locked.stderr
