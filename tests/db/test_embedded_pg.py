"""The embedded PostgreSQL: really initialised, started, reused, stopped and restarted.

Starting clusters takes a few seconds, so these run only with READMIT_TEST_EMBEDDED=1.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from adapters.db.embedded import (
    EmbeddedPostgres,
    EmbeddedPostgresError,
    candidate_bin_dirs,
    major_version,
)
from adapters.settings import ConfigurationError, Settings

enabled = pytest.mark.skipif(
    os.environ.get("READMIT_TEST_EMBEDDED") != "1", reason="set READMIT_TEST_EMBEDDED=1 to run"
)
BIN_DIRS = candidate_bin_dirs()


@pytest.fixture
def home() -> Iterator[Path]:
    """A private directory outside pytest's tmp root, which pytest re-closes to 0700 (other
    pytest runs included) and so would cut the server user off from its data."""
    path = Path(tempfile.mkdtemp(prefix="readmit-embedded-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def fetch_one(dsn: str, sql: str) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def process_uid(server: EmbeddedPostgres) -> int:
    pid = (server.data_dir / "postmaster.pid").read_text().split()[0]
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def test_database_url_wins_over_embedded(tmp_path: Path) -> None:
    settings = Settings.model_construct(home=tmp_path, database_url="postgresql://x@y/z")
    assert settings.dsn() == "postgresql://x@y/z"
    assert settings.dsn("postgresql://given@y/z") == "postgresql://given@y/z"
    assert not (tmp_path / "postgres").exists()


def test_an_embedded_server_that_cannot_start_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: EmbeddedPostgres) -> str:
        raise EmbeddedPostgresError("initdb failed (1): no space left\nthe server log's tail")

    monkeypatch.setattr(EmbeddedPostgres, "start", refuse)
    settings = Settings.model_construct(home=tmp_path, database_url=None)
    with pytest.raises(ConfigurationError) as raised:
        settings.dsn()
    assert str(raised.value) == (
        "no PostgreSQL: DATABASE_URL is unset and the embedded server did not start: "
        "initdb failed (1): no space left"
    )


def test_no_temporal_address_is_one_line_naming_the_setting() -> None:
    settings = Settings.model_construct(temporal_address=None)
    assert settings.temporal_target("h:7233") == "h:7233"
    with pytest.raises(ConfigurationError, match="READMIT_TEMPORAL_ADDRESS"):
        settings.temporal_target()


@enabled
@pytest.mark.parametrize("bin_dir", BIN_DIRS, ids=[str(major_version(d)) for d in BIN_DIRS])
async def test_start_reuse_stop_restart_keeps_data(home: Path, bin_dir: Path) -> None:
    server = EmbeddedPostgres(home, bin_dir=bin_dir)
    try:
        dsn = await asyncio.to_thread(server.start)
        assert server.started_here
        assert await fetch_one(dsn, "SELECT current_database()") == "readmit"
        await fetch_one(dsn, "CREATE TABLE kept AS SELECT 42 AS answer")
        if os.geteuid() == 0:
            assert process_uid(server) != 0

        again = EmbeddedPostgres(home, bin_dir=bin_dir)
        assert await asyncio.to_thread(again.start) == dsn
        assert not again.started_here

        await asyncio.to_thread(server.stop)
        assert not server.is_running()
        with pytest.raises(OSError):
            await fetch_one(dsn, "SELECT 1")

        restarted = EmbeddedPostgres(home, bin_dir=bin_dir)
        dsn = await asyncio.to_thread(restarted.start)
        assert restarted.started_here
        assert await fetch_one(dsn, "SELECT answer FROM kept") == 42
    finally:
        await asyncio.to_thread(server.stop)


@enabled
@pytest.mark.skipif(
    len({major_version(d) for d in BIN_DIRS}) < 2, reason="needs two PostgreSQL versions"
)
async def test_existing_cluster_is_started_with_its_own_version(home: Path) -> None:
    oldest = min(BIN_DIRS, key=major_version)
    first = EmbeddedPostgres(home, bin_dir=oldest)
    try:
        await asyncio.to_thread(first.start)
        await asyncio.to_thread(first.stop)
        chosen = EmbeddedPostgres(home)  # no bin_dir: must not pick the newest
        assert chosen.bin_dir() == oldest
        dsn = await asyncio.to_thread(chosen.start)
        version = await fetch_one(dsn, "SHOW server_version_num")
        assert int(str(version)) // 10000 == major_version(oldest)
    finally:
        await asyncio.to_thread(first.stop)
