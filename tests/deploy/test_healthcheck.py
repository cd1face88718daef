"""The image's health check: which process PID 1 is, and whether it answers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from adapters.settings import Settings
from readmit.healthcheck import healthy, role_of_pid1


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("argv", "role"),
    [
        (
            ["/opt/readmit/bin/python", "/opt/readmit/bin/readmit", "worker", "--state", "UA"],
            "worker",
        ),
        (["/opt/readmit/bin/readmit", "api"], "api"),
        (["readmit", "db", "migrate"], "db"),
        (["postgres", "-c", "max_connections=300"], ""),
    ],
)
def test_role_comes_from_pid1(tmp_path: Path, argv: list[str], role: str) -> None:
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes("\0".join(argv).encode() + b"\0")
    assert role_of_pid1(cmdline) == role


def test_api_is_healthy_when_it_answers(api_port: int) -> None:
    assert healthy("api", Settings(api_port=api_port))
    assert not healthy("api", Settings(api_port=free_port()))


def test_one_shot_commands_are_healthy() -> None:
    assert healthy("db", Settings(api_port=free_port()))
