"""`readmit db reindex-search` on real PostgreSQL: after the search key changes nothing is found
until the job runs, then every case is found again under the new key; an erased case stays out;
a second run changes nothing; a batch that fails leaves its cases wholly under the old key."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import pytest
from factories import open_case
from test_person_index import hashes
from test_projector import new_events
from typer.testing import CliRunner

from adapters.db.eventstore import EventStore
from adapters.db.person_index import entries_of, find
from adapters.db.projector import CaseProjector
from adapters.db.search_reindex import SearchReindexer
from adapters.protection.blind_index import BlindIndex, Entry, PersonQuery, all_tokens
from adapters.protection.sealing import CaseSealer
from adapters.protection.vault import PersonalDataVault
from adapters.settings import get_settings
from domain.decider import decide
from domain.identity.search_tokens import Kind
from domain.state import CaseState, initial_state
from readmit.cli.main import app

OLD_KEY, NEW_KEY = bytes(range(32)), bytes(range(1, 33))
CASES = ("PL-UA-2027-000201", "PL-UA-2027-000202", "PL-UA-2027-000203")
ERASED = CASES[2]


def new_hashes(**criteria: object) -> set[bytes]:
    """What a search asks for under the new key."""
    index = BlindIndex(NEW_KEY)
    return {index.hash(t) for t in _tokens(**criteria)}


def _tokens(**criteria: object) -> set[tuple[Kind, str]]:
    return all_tokens(PersonQuery(**criteria).asked())  # type: ignore[arg-type]


async def indexed_under_old_key(pool: asyncpg.Pool, vault: PersonalDataVault) -> None:
    """Open CASES, index them under the old key, erase the last one."""
    store = EventStore(pool)
    for case_id in CASES:
        command = await vault.seal(case_id, open_case(case_id=case_id))
        await store.append(case_id, 0, new_events(decide(command, initial_state())))
    await CaseProjector(pool, vault=vault, index=BlindIndex(OLD_KEY)).catch_up()
    await vault.erase([ERASED], datetime.now(UTC), "test")


WANTED = {"surname": "Shevchenko", "birth_date": date(1990, 5, 17)}


async def test_reindexing_finds_the_cases_again_under_the_new_key(
    pool: asyncpg.Pool, vault: PersonalDataVault
) -> None:
    await indexed_under_old_key(pool, vault)
    assert set(await find(pool, hashes(**WANTED), ["*"])) == set(CASES[:2])  # the old key
    assert await find(pool, new_hashes(**WANTED), ["*"]) == {}  # the key changed

    job = SearchReindexer(pool, vault, BlindIndex(NEW_KEY))
    assert await job.count() == 2
    seen: list[int] = []
    done = await job.run(batch=1, on_batch=seen.append)
    assert (done.cases, seen) == (2, [1, 1]) and done.entries > 0

    assert set(await find(pool, new_hashes(**WANTED), ["*"])) == set(CASES[:2])
    assert await find(pool, hashes(**WANTED), ["*"]) == {}  # no entry left under the old key
    assert await entries_of(pool, ERASED) == []
    before = {c: await entries_of(pool, c) for c in CASES}
    assert await job.run() == done  # idempotent
    assert {c: await entries_of(pool, c) for c in CASES} == before


class FailsOn(BlindIndex):
    """The new key's index, failing on one case (a fault in the middle of a batch)."""

    def case_entries(self, state: CaseState, sealer: CaseSealer | None) -> list[Entry]:
        if state.case_id == CASES[1]:
            raise RuntimeError("fault")
        return super().case_entries(state, sealer)


async def test_a_failed_batch_leaves_its_cases_under_the_old_key(
    pool: asyncpg.Pool, vault: PersonalDataVault
) -> None:
    await indexed_under_old_key(pool, vault)
    before = {c: await entries_of(pool, c) for c in CASES}
    with pytest.raises(RuntimeError):
        await SearchReindexer(pool, vault, FailsOn(NEW_KEY)).run(batch=10)
    assert {c: await entries_of(pool, c) for c in CASES} == before


@pytest.fixture
def keys_env(
    monkeypatch: pytest.MonkeyPatch, master_keys: dict[str, str], tmp_path: Path
) -> Iterator[None]:
    monkeypatch.setenv("READMIT_MASTER_KEYS", json.dumps(master_keys))
    monkeypatch.setenv("READMIT_SEARCH_KEY", base64.b64encode(NEW_KEY).decode())
    monkeypatch.setenv("READMIT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("keys_env")
async def test_the_command_reindexes_and_prints_a_summary(
    pool: asyncpg.Pool, vault: PersonalDataVault, database_url: str, db_schema: str
) -> None:
    await indexed_under_old_key(pool, vault)
    where = ["--database-url", database_url, "--schema", db_schema]
    command = ["db", "reindex-search", *where]
    result = await asyncio.to_thread(CliRunner().invoke, app, command)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["cases"] == 2 and summary["entries"] > 0 and summary["seconds"] >= 0
    assert "re-indexing persons: 2/2" in result.stderr
    assert set(await find(pool, new_hashes(**WANTED), ["*"])) == set(CASES[:2])

    unreachable = ["db", "reindex-search", "--database-url", "postgresql://nobody@127.0.0.1:1/x"]
    failed = await asyncio.to_thread(CliRunner().invoke, app, unreachable)
    assert failed.exit_code == 2
    assert failed.stderr.startswith("readmit: cannot connect to PostgreSQL")
    assert len(failed.stderr.splitlines()) == 1


async def test_production_without_a_search_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("READMIT_ENV", "production")
    monkeypatch.delenv("READMIT_SEARCH_KEY", raising=False)
    monkeypatch.setenv("READMIT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "reindex-search"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "READMIT_SEARCH_KEY" in result.stderr and len(result.stderr.splitlines()) == 1
