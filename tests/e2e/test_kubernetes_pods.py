"""The pods of deploy/kubernetes/ as a cluster would run them, minus the cluster: the migration
job, then `readmit api` and the case worker, each with exactly the environment its manifest
gives it (the ConfigMap, the Secrets as the operator creates them, the literal values), in
production mode, on a read-only root file system with a tmpfs on /tmp (the manifests'
`readOnlyRootFilesystem` and `emptyDir`), against PostgreSQL (the owner for the job, the runtime
role for the others) and a Temporal dev server. The probes' routes answer 200, an officer's
upload is read (spooled in /tmp), and the case worker has created the retention schedule (the
manifests' "schedules")."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kubernetes_manifests import Container, container
from PIL import Image
from runtime_support import RUNTIME_ROLE
from temporalio.testing import WorkflowEnvironment

from adapters.temporal.retention import schedule_id
from readmit.embedded_temporal import free_port

pytestmark = [pytest.mark.db, pytest.mark.temporal]

ABSENT_HOME = "/var/lib/readmit-absent"
STARTS_WITHIN = 90.0  # imports on a busy two-core machine are slow
# a private mount namespace: a tmpfs on /tmp, then the root bound read-only over itself
ROOT = Path(__file__).resolve().parents[2]
# A checkout under /tmp (a CI clone may be one) stays visible through the pods' own /tmp: it is
# held at /mnt while the tmpfs is mounted, then bound back at its path.
KEEP_CHECKOUT = f"mount --bind '{ROOT}' /mnt && " if ROOT.is_relative_to("/tmp") else ""
BRING_BACK = (
    f" && mkdir -p '{ROOT}' && mount --bind /mnt '{ROOT}' && umount /mnt"
    if ROOT.is_relative_to("/tmp")
    else ""
)
READ_ONLY_ROOT = (
    KEEP_CHECKOUT
    + "mount -t tmpfs -o size=64m,mode=1777 tmpfs /tmp"
    + BRING_BACK
    + ' && mount --bind / / && mount -o remount,bind,ro / && cd / && exec "$@"'
)


def read_only_root() -> list[str]:
    """The command prefix running a process on a read-only root; skip where this machine
    cannot make one (no root, no mount namespaces)."""
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c", READ_ONLY_ROOT, "sh"]
    probe = subprocess.run(
        [*prefix, "sh", "-c", "! touch /readmit-ro-probe 2>/dev/null && touch /tmp/x"],
        capture_output=True,
        timeout=30,
    )
    if probe.returncode != 0:
        pytest.skip("no mount namespace here to make a read-only root")
    return prefix


def pod_env(c: Container, **overrides: str) -> dict[str, str]:
    """The image's ENV, then what the manifests give `c`, with this machine's addresses."""
    image = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "READMIT_HOME": ABSENT_HOME,  # nothing may be made there
        "HOME": ABSENT_HOME,
    }
    return image | c.env() | overrides


@pytest.fixture
def pods(tmp_path: Path) -> Iterator[list[tuple[subprocess.Popen[bytes], Path]]]:
    started: list[tuple[subprocess.Popen[bytes], Path]] = []
    yield started
    for process, _ in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def start(
    pods: list[tuple[subprocess.Popen[bytes], Path]],
    log: Path,
    prefix: list[str],
    c: Container,
    env: dict[str, str],
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "readmit.cli.main", *c.args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    pods.append((process, log))
    return process


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> httpx.Response:
    deadline = time.monotonic() + STARTS_WITHIN
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited:\n{log.read_text(errors='replace')[-3000:]}"
        try:
            answer = httpx.get(url, timeout=5)
            if answer.status_code == 200:
                return answer
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not 200:\n{log.read_text(errors='replace')[-3000:]}")


def probe_pods(
    tmp_path: Path,
    pods: list[tuple[subprocess.Popen[bytes], Path]],
    here: dict[str, str],
    owner: dict[str, str],
    schema: str,
) -> str:
    """Run the migration job (on the test's `schema`), start the API's and the case worker's
    pods, wait for their probes' routes, send the API
    an upload; the queue prefix the worker was given."""
    prefix = read_only_root()
    job = container("Job", "readmit-migrate")  # first, as the guide says
    migrated = subprocess.run(
        [*prefix, sys.executable, "-m", "readmit.cli.main", *job.args, "--schema", schema],
        env=pod_env(job, **owner),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert f"runtime role {here['READMIT_DB_RUNTIME_ROLE']}" in migrated.stdout
    api = container("Deployment", "readmit-api")
    api_port = str(free_port())
    api_env = pod_env(api, **here, READMIT_API_PORT=api_port)
    api_process = start(pods, tmp_path / "api.log", prefix, api, api_env)
    worker = container("Deployment", "readmit-worker-cases")
    metrics_port = free_port()
    worker_env = pod_env(
        worker,
        **here,
        READMIT_SDK_METRICS_ADDRESS=f"0.0.0.0:{free_port()}",
        READMIT_METRICS_ADDRESS=f"0.0.0.0:{metrics_port}",
    )
    worker_process = start(pods, tmp_path / "worker.log", prefix, worker, worker_env)

    base = f"http://127.0.0.1:{api_port}"
    assert wait_for(f"{base}/health", api_process, tmp_path / "api.log").json()["status"] == "ok"
    ready = wait_for(f"{base}/ready", api_process, tmp_path / "api.log").json()
    assert ready["status"] == "ready", ready
    wait_for(f"http://127.0.0.1:{metrics_port}/metrics", worker_process, tmp_path / "worker.log")

    # an upload is spooled and read on the read-only root: an answer, never a 500
    officer = ["--user", "anna.pl", "--role", "officer", "--state", "PL"]
    token = subprocess.run(
        [sys.executable, "-m", "readmit.cli.main", "token", *officer],
        env=api_env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.strip()
    scan = io.BytesIO()
    Image.new("RGB", (400, 120), "white").save(scan, format="PNG")
    read = httpx.post(
        f"{base}/mrz/read",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("scan.png", scan.getvalue(), "image/png")},
        timeout=60,
    )
    assert read.status_code in (200, 422), read.text
    return worker_env["READMIT_QUEUE_PREFIX"]


def still_running(pods: list[tuple[subprocess.Popen[bytes], Path]]) -> None:
    for process, log in pods:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
    assert not os.path.exists(ABSENT_HOME), "production made a home of its own"


async def test_the_api_and_case_worker_run_as_their_manifests_say(
    tmp_path: Path,
    pods: list[tuple[subprocess.Popen[bytes], Path]],
    runtime_dsn: str,
    database_url: str,
    db_schema: str,
    dev_env: WorkflowEnvironment,
) -> None:
    owner = {
        "READMIT_MIGRATION_DATABASE_URL": database_url,
        "READMIT_DB_RUNTIME_ROLE": RUNTIME_ROLE.name,
        "READMIT_DB_RUNTIME_PASSWORD": RUNTIME_ROLE.password or "",
    }
    here = {
        "DATABASE_URL": runtime_dsn,
        "READMIT_DB_RUNTIME_ROLE": RUNTIME_ROLE.name,
        "READMIT_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
    }
    queue_prefix = await asyncio.to_thread(probe_pods, tmp_path, pods, here, owner, db_schema)
    deadline = time.monotonic() + STARTS_WITHIN
    while True:  # the case worker creates the schedules at start
        try:
            await dev_env.client.get_schedule_handle(schedule_id(queue_prefix)).describe()
            break
        except Exception:
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
            await asyncio.sleep(0.5)
    await asyncio.to_thread(still_running, pods)
