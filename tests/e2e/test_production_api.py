"""Production mode as an operator meets it, with the real processes: `readmit api` and
`readmit worker` without secrets exit 2 naming every one; with `readmit keys init`'s output as
their environment the API starts, answers `/health` while PostgreSQL and Temporal are
unreachable, says in `/ready` what it waits for, and becomes ready once they are there."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dotenv import dotenv_values
from temporalio.testing import WorkflowEnvironment

from adapters.temporal.binaries import dev_server_path
from adapters.temporal.search_attributes import register
from readmit.embedded_temporal import free_port

pytestmark = [pytest.mark.db, pytest.mark.temporal]

SECRETS = (
    "READMIT_PAYLOAD_KEYS",
    "READMIT_PAYLOAD_KEY_ID",
    "READMIT_MASTER_KEYS",
    "READMIT_MASTER_KEY_ID",
    "READMIT_AUDIT_SIGNING_KEY",
    "READMIT_COMMAND_SIGNING_KEY",
)
STARTS_WITHIN = 60.0  # imports on a busy two-core machine are slow


def readmit(*args: str) -> list[str]:
    return [sys.executable, "-m", "readmit.cli.main", *args]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any Readmit setting, plus `extra`."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("READMIT_", "OTEL_")) and k != "DATABASE_URL"
    }
    return kept | extra


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_production_api_without_secrets_exits_2_naming_every_one(tmp_path: Path) -> None:
    done = subprocess.run(
        readmit("api"),
        env=clean_env(READMIT_ENV="production", READMIT_HOME=str(tmp_path / "home")),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    line = one_line(done)
    for name in (*SECRETS, "READMIT_JWT_SECRET", "DATABASE_URL", "READMIT_TEMPORAL_ADDRESS"):
        assert name in line, (name, line)
    assert not (tmp_path / "home").exists(), "production made a key or a home of its own"


@pytest.mark.parametrize("command", [("api",), ("worker", "--state", "PL")])
def test_api_and_worker_are_production_unless_told(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """No READMIT_ENV: the deployment commands take production's rules, not a laptop's."""
    done = subprocess.run(
        readmit(*command),
        env=clean_env(
            READMIT_HOME=str(tmp_path / "home"),
            DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
            READMIT_TEMPORAL_ADDRESS="127.0.0.1:1",
        ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    line = one_line(done)
    assert line.startswith("readmit: production needs these settings"), line
    api = command[0] == "api"
    # workers verify no token, and sign no audit checkpoint without a sink to send it to
    assert all(name in line for name in SECRETS if api or name != "READMIT_AUDIT_SIGNING_KEY")
    assert ("READMIT_JWT_SECRET" in line) == api and ("READMIT_AUDIT_SIGNING_KEY" in line) == api
    assert not (tmp_path / "home").exists()


@dataclass
class Api:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=5)

    def wait_for(self, path: str, status: int, within: float) -> httpx.Response:
        deadline = time.monotonic() + within
        answer: httpx.Response | None = None
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the API exited:\n{self.output()}"
            try:
                answer = self.get(path)
                if answer.status_code == status:
                    return answer
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        shown = f"{answer.status_code} {answer.text}" if answer is not None else "no answer"
        raise AssertionError(f"{path} not {status} within {within} s ({shown}):\n{self.output()}")

    def wait_until_missing(self, parts: list[str], within: float) -> None:
        """Until `/ready` names exactly `parts` as missing."""
        deadline = time.monotonic() + within
        while (missing := self.get("/ready").json().get("missing")) != parts:
            assert time.monotonic() < deadline, (missing, self.output())
            time.sleep(0.3)


def keys_init(cwd: Path) -> dict[str, str]:
    done = subprocess.run(
        readmit("keys", "init"),
        env=clean_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    values = dotenv_values(stream=io.StringIO(done.stdout))
    return {k: v for k, v in values.items() if v is not None}


Serve = Callable[[dict[str, str]], Api]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    started: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str]) -> Api:
        port = free_port()
        log = tmp_path / f"api-{port}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                readmit("api", "--port", str(port)),
                env=clean_env(**env, READMIT_HOME=str(tmp_path / "home")),
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return Api(process, f"http://127.0.0.1:{port}", log)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_with_keys_init_the_api_answers_health_without_postgres_or_temporal(
    tmp_path: Path, serve: Serve
) -> None:
    env = keys_init(tmp_path) | {
        "DATABASE_URL": f"postgresql://readmit@127.0.0.1:{free_port()}/readmit",
        "READMIT_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
    }
    api = serve(env)
    health = api.wait_for("/health", 200, STARTS_WITHIN)
    assert health.json() == {"status": "ok"}
    assert health.headers["strict-transport-security"].startswith("max-age=")

    ready = api.get("/ready")
    assert ready.status_code == 503 and int(ready.headers["retry-after"]) > 0
    assert ready.headers["content-type"].startswith("application/problem+json")
    assert ready.json()["missing"] == ["postgres", "migrations", "temporal", "services"]
    assert "postgres" in ready.json()["detail"] and "temporal" in ready.json()["detail"]

    cases = api.get("/cases")  # not ready: 503, never a 500 or a hang
    assert cases.status_code == 503, cases.text
    assert cases.headers["content-type"].startswith("application/problem+json")
    assert api.get("/docs").status_code == 404  # production: no docs unless enabled
    assert api.get("/openapi.json").status_code == 404

    api.process.send_signal(signal.SIGTERM)
    assert api.process.wait(timeout=30) in (0, -signal.SIGTERM), api.output()
    assert not (tmp_path / "home").exists(), "production generated keys under its home"


async def test_the_api_becomes_ready_when_temporal_comes(
    tmp_path: Path, serve: Serve, runtime_dsn: str
) -> None:
    """PostgreSQL there (as the runtime role: production refuses the owner), Temporal not
    yet: `/ready` names only Temporal (and the services it waits for); once a server listens
    on the configured address, the API connects by itself and is ready."""
    temporal_port = free_port()
    env = keys_init(tmp_path) | {
        "DATABASE_URL": runtime_dsn,
        "READMIT_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
    }
    api = serve(env)
    await asyncio.to_thread(api.wait_for, "/health", 200, STARTS_WITHIN)
    await asyncio.to_thread(api.wait_until_missing, ["temporal", "services"], 30)
    async with await WorkflowEnvironment.start_local(
        port=temporal_port,
        dev_server_existing_path=str(dev_server_path()),
        dev_server_log_level="error",
    ) as temporal:
        await register(temporal.client)  # the case workflows' search attributes
        ready = await asyncio.to_thread(api.wait_for, "/ready", 200, 40)
        assert ready.json() == {
            "status": "ready",
            "checks": {"postgres": True, "migrations": True, "temporal": True, "services": True},
        }
        assert api.get("/cases").status_code == 401  # served now: a token is what it lacks


def test_a_production_worker_refuses_the_owners_database_url(
    tmp_path: Path, schema_dsn: str
) -> None:
    """Finding: a worker given the owner's DSN migrated as the owner and ran with its rights;
    production's workers run as the runtime role, so it is one line and exit 2 (the tests' DSN
    is a superuser's)."""
    env = keys_init(tmp_path) | {
        "DATABASE_URL": schema_dsn,
        "READMIT_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",  # refused before Temporal
    }
    done = subprocess.run(
        readmit("worker", "--state", "PL"),
        env=clean_env(**env, READMIT_HOME=str(tmp_path / "home")),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    line = one_line(done)
    assert "owner's rights" in line and "is a superuser" in line, line
    assert "READMIT_MIGRATION_DATABASE_URL" in line and "readmit db migrate" in line, line
