"""`readmit run` as a person runs it: one process starts the dev server, workers and the API on
a fresh home; a case opened over HTTP survives a Ctrl-C and a second start; a busy API port is
one line and exit 2."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from factories import application_body
from runtime_support import RUNTIME_ROLE

from readmit.embedded_temporal import free_port, port_is_free

pytestmark = [pytest.mark.temporal, pytest.mark.db]

READY_WITHIN = 60.0
OPEN = application_body()


def readmit(*args: str) -> list[str]:
    return [sys.executable, "-m", "readmit.cli.main", *args]


@dataclass
class Home:
    path: Path
    env: dict[str, str]
    api_port: int
    temporal_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def bearer(self, user: str, role: str, state: str) -> dict[str, str]:
        """Headers with a token from `readmit token`."""
        minted = subprocess.run(
            readmit("token", "--user", user, "--role", role, "--state", state),
            env=self.env,
            cwd=self.path,
            capture_output=True,
            text=True,
        )
        assert minted.returncode == 0, minted.stderr
        return {"Authorization": f"Bearer {minted.stdout.strip()}"}


@pytest.fixture
def home(tmp_path: Path, schema_dsn: str) -> Home:
    api_port, temporal_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("READMIT_")}
    env |= {
        "READMIT_HOME": str(tmp_path / "home"),
        "DATABASE_URL": schema_dsn,
        "READMIT_DB_RUNTIME_PASSWORD": RUNTIME_ROLE.password or "",
        "READMIT_API_PORT": str(api_port),
        "READMIT_TEMPORAL_PORT": str(temporal_port),
    }
    return Home(tmp_path, env, api_port, temporal_port)


class Run:
    """One `readmit run` process, its output in a file."""

    def __init__(self, home: Home, log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                readmit("run", "--headless", "--state", "PL", "--state", "UA"),
                env=home.env,
                cwd=home.path,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, url: str) -> float:
        started = time.monotonic()
        while time.monotonic() - started < READY_WITHIN:
            assert self.process.poll() is None, f"`readmit run` exited:\n{self.output()}"
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"/ready did not answer 200 within {READY_WITHIN} s:\n{self.output()}")

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=45)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    started: list[Run] = []
    yield started
    for run in started:
        run.kill()


def connected_roles(dsn: str, since: datetime) -> set[str]:
    """The roles of the Readmit connections to the database opened since `since`."""

    async def query() -> set[str]:
        conn = await asyncpg.connect(dsn, server_settings={"application_name": "test"})
        try:
            rows = await conn.fetch(
                "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'readmit' AND backend_start >= $1",
                since,
            )
        finally:
            await conn.close()
        return {r["usename"] for r in rows}

    return asyncio.run(query())


def test_run_starts_everything_and_keeps_data_across_restarts(
    home: Home, runs: list[Run], schema_dsn: str
) -> None:
    started = datetime.now(UTC)
    first = Run(home, home.path / "first.log")
    runs.append(first)
    first.wait_ready(home.url)
    # migrated as the DSN's role, the owner; the workers and the API connect as the runtime role
    assert connected_roles(schema_dsn, started) == {RUNTIME_ROLE.name}, first.output()
    assert f"processes connect as {RUNTIME_ROLE.name}" in first.output()
    anna = home.bearer("anna.pl", "officer", "PL")
    knowledge_at = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    body = {**OPEN, "knowledge_at": knowledge_at}
    opened = httpx.post(f"{home.url}/cases", json=body, headers=anna, timeout=30)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    submitted = httpx.post(f"{home.url}/cases/{case_id}/submit", json={}, headers=anna, timeout=30)
    assert submitted.status_code == 200, submitted.text

    assert first.interrupt() == 0, first.output()
    assert "✓ stopped" in first.output()
    assert port_is_free(home.api_port) and port_is_free(home.temporal_port), first.output()
    assert "Traceback" not in first.output()

    second = Run(home, home.path / "second.log")
    runs.append(second)
    second.wait_ready(home.url)
    listed = httpx.get(f"{home.url}/cases", headers=anna, timeout=30).json()["items"]
    assert [(c["case_id"], c["status"]) for c in listed] == [(case_id, "received")]  # delivered
    olena = home.bearer("olena.ua", "officer", "UA")
    receipt = httpx.post(f"{home.url}/cases/{case_id}/receipt", json={}, headers=olena, timeout=30)
    assert receipt.status_code == 200, receipt.text  # the workflow lived on in the dev server
    walk_to_close(home, case_id, anna, olena)
    assert second.interrupt() == 0, second.output()
    assert port_is_free(home.api_port) and port_is_free(home.temporal_port), second.output()


def walk_to_close(home: Home, case_id: str, anna: dict[str, str], olena: dict[str, str]) -> None:
    """The rest of the case on the real stack, as the two officers, then read as an auditor."""

    def post(path: str, who: dict[str, str], body: dict[str, str] | None = None) -> str:
        answer = httpx.post(
            f"{home.url}/cases/{case_id}{path}", json=body or {}, headers=who, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["status"])

    assert post("/accept", olena) == "accepted"
    on = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    assert post("/transfer", anna, {"on": on, "bcp": "Medyka-Shehyni", "mode": "land"}) == (
        "transfer_scheduled"
    )
    assert post("/transfer/complete", anna) == "transferred"
    assert post("/close", anna) == "closed"
    auditor = home.bearer("audit.pl", "auditor", "PL")
    events = httpx.get(f"{home.url}/cases/{case_id}/events", headers=auditor, timeout=30).json()
    types = [e["type"] for e in events["events"]]
    assert types[0] == "CaseOpened" and types[-1] == "CaseClosed"
    assert {e["actor"]["user_id"] for e in events["events"]} >= {"anna.pl", "olena.ua"}
    verified = httpx.get(f"{home.url}/cases/{case_id}/verify", headers=auditor, timeout=30).json()
    assert verified["ok"] and verified["checked"] == len(types)
    refused = httpx.post(f"{home.url}/cases/{case_id}/close", json={}, headers=auditor, timeout=30)
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("part", "setting"),
    [("API", "READMIT_API_PORT"), ("Temporal dev server", "READMIT_TEMPORAL_PORT")],
)
def test_a_busy_port_is_one_line_and_exit_2(home: Home, part: str, setting: str) -> None:
    port = home.api_port if part == "API" else home.temporal_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = subprocess.run(
            readmit("run", "--headless"),
            env=home.env,
            cwd=home.path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"readmit: port {port} ({part}) is in use: free it or choose another with {setting}"
    ]
    assert port_is_free(home.api_port) and port_is_free(home.temporal_port)  # nothing runs
    assert not (home.path / "home" / "temporal.json").exists()  # no dev server was started
