"""The real stack for end-to-end and fault tests: `readmit worker` processes and dev servers.

A `WorkerProcess` runs `readmit worker` in its own process, as an operator does. Spawned `warm`,
it imports the worker command first and waits for a line on stdin before running it, so that
the replacement of a killed worker (`WorkerRelay`) serves within about a second: what the kill
tests measure is the system's recovery, not Python's import time. `wait_polling` tells when a
given process polls every queue it serves (its identity is `<pid>@<host>`, the SDK's default).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import asyncpg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from adapters.protection.vault import PersonalDataVault
from adapters.temporal.binaries import dev_server_path
from adapters.temporal.codec import Keyring, data_converter
from adapters.temporal.command_signing import CommandSigner
from adapters.temporal.search_attributes import register
from readmit.embedded_temporal import DevServer, free_port
from workflows.contracts import cases_queue, state_queue

KEY_ID = "e2e"
KEY = Keyring.new_key()
MASTER_KEY_ID = "e2e-master"
MASTER_KEY = Keyring.new_key()
SIGNING_KEY = base64.b64encode(os.urandom(32)).decode()
STATES = ("PL", "UA")

# The worker command's imports and the SDK's build id (a hash of every loaded module's code,
# memoised) first, ≈ 1.3 s of CPU; then the command `readmit worker` runs, once told to go.
_WARM = """
import sys
from workers.command import worker_command
from temporalio.worker._worker import load_default_build_id
load_default_build_id()
sys.stdin.readline()
worker_command(state=sys.argv[1:], cases=True, temporal_address=None)
"""


def converter() -> DataConverter:
    """The data converter of the workers these helpers start (same payload key)."""
    return data_converter(Keyring.from_encoded({KEY_ID: KEY}, KEY_ID))


def signer() -> CommandSigner:
    """The API's command signing key as the workers these helpers start accept it."""
    return CommandSigner.from_seed(SIGNING_KEY)


def vault(pool: asyncpg.Pool) -> PersonalDataVault:
    """The case data keys as the workers these helpers start see them (same master key)."""
    master = Keyring.from_encoded({MASTER_KEY_ID: MASTER_KEY}, MASTER_KEY_ID, what="master")
    return PersonalDataVault(pool, master)


async def start_dev_server() -> WorkflowEnvironment:
    """An in-memory dev server (≈ 0.3 s to start) whose client speaks the workers' converter."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_path()),
        data_converter=converter(),
        dev_server_log_level="error",
    )
    await register(env.client)  # the case workflows' search attributes
    return env


class WorkerProcess:
    """`readmit worker --state PL --state UA` (`python -m workers`) in its own process, as an
    operator runs it."""

    def __init__(
        self,
        address: str,
        dsn: str,
        prefix: str,
        log: Path,
        states: Sequence[str] = STATES,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("READMIT_")},
            "READMIT_ENV": "development",  # the keys below; no audit or command signing key
            "DATABASE_URL": dsn,
            "READMIT_TEMPORAL_ADDRESS": address,
            "READMIT_QUEUE_PREFIX": prefix,
            "READMIT_PAYLOAD_KEYS": json.dumps({KEY_ID: KEY}),
            "READMIT_PAYLOAD_KEY_ID": KEY_ID,
            "READMIT_MASTER_KEYS": json.dumps({MASTER_KEY_ID: MASTER_KEY}),
            "READMIT_COMMAND_SIGNING_KEY": SIGNING_KEY,
            **(extra_env or {}),
        }
        self.prefix = prefix
        self.states = tuple(states)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "the worker was not started"
        return self.process.pid

    def spawn(self, *, warm: bool = False) -> None:
        """Start `readmit worker`; a `warm` one waits for `go()` after its imports."""
        if warm:
            command = ["-c", _WARM, *self.states]
        else:
            states = [a for s in self.states for a in ("--state", s)]
            command = ["-m", "readmit.cli.main", "worker", *states]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, *command],
                env=self.env,
                stdin=subprocess.PIPE if warm else subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def go(self) -> None:
        """Let a warm process run the worker."""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        self.process.stdin.close()

    def start(self) -> None:
        self.spawn()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to the server; in-flight tasks are abandoned."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.stdin and not self.process.stdin.closed:
            self.kill()  # a standby never told to go: it holds no work
            self.process.stdin.close()
            return
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


async def wait_polling(
    client: Client, worker: WorkerProcess, *, cases: bool = True, within: float = 30.0
) -> float:
    """Seconds until `worker` polls its queues (the case queue's workflow and activity tasks,
    each state's activity tasks); fails with the worker's output if it dies or never does."""
    identity = f"{worker.pid}@{socket.gethostname()}"
    activity = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
    wanted = [(state_queue(s, worker.prefix), activity) for s in worker.states]
    if cases:
        queue = cases_queue(worker.prefix)
        wanted += [
            (queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
            (queue, activity),
        ]
    started = time.monotonic()
    while wanted:
        assert worker.alive(), f"the worker exited:\n{worker.output()}"
        assert time.monotonic() - started < within, (
            f"no polls within {within} s:\n{worker.output()}"
        )
        name, kind = wanted[-1]
        answer = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace, task_queue=TaskQueue(name=name), task_queue_type=kind
            )
        )
        if any(p.identity == identity for p in answer.pollers):
            wanted.pop()
        else:
            await asyncio.sleep(0.03)
    return time.monotonic() - started


class WorkerRelay:
    """One serving worker and warm standbys: `replace()` kills the one and lets the next go."""

    def __init__(self, make: Callable[[int], WorkerProcess], standbys: int = 2) -> None:
        self.make = make
        self.count = 0
        self.current = self._standby()
        self.current.go()
        self.waiting = [self._standby() for _ in range(standbys)]

    def _standby(self) -> WorkerProcess:
        self.count += 1
        worker = self.make(self.count)
        worker.spawn(warm=True)
        return worker

    def replace(self) -> WorkerProcess:
        self.current.kill()
        self.current = self.waiting.pop(0)
        self.current.go()
        self.waiting.append(self._standby())
        return self.current

    def stop(self) -> None:
        for worker in (self.current, *self.waiting):
            worker.stop()


class RestartableDevServer:
    """A dev server with a SQLite file on a fixed port, stopped and started again at will.

    Started without the parent-death hook of `readmit run`'s launcher (a `preexec_fn` is unsafe
    in a process with threads, as a test process with a Temporal client has).
    """

    def __init__(self, home: Path) -> None:
        self.server = DevServer(home=home, port=free_port(), ui_port=None)

    @property
    def address(self) -> str:
        return self.server.address

    async def start(self) -> None:
        self.launch()
        await self.server.wait_ready("default")

    def launch(self) -> None:
        self.server.home.mkdir(parents=True, exist_ok=True)
        with self.server.log_file.open("ab") as log:
            self.server.process = subprocess.Popen(
                self.server.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        """SIGTERM (then SIGKILL after 15 s): what an operator's restart does."""
        self.server.stop()

    def kill(self) -> None:
        """SIGKILL: a crash; SQLite keeps what was committed."""
        self.server.kill()
