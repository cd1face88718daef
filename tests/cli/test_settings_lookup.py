"""The one settings lookup as commands meet it: a missing Temporal address or a bad setting is
one line naming the variable, exit 2, before anything starts; `python -m workers` is the same
command as `readmit worker`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("READMIT_")}
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=50,
        # development: production's own line (every missing secret) is tests/e2e's
        env=clean
        | {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "READMIT_ENV": "development"}
        | env,
    )


@pytest.mark.parametrize(
    "command",
    [
        ("-m", "workers", "--state", "PL"),
        ("-m", "readmit.cli.main", "worker", "--state", "PL"),
        ("-m", "readmit.cli.main", "audit", "verify", "--all"),
    ],
)
def test_no_temporal_address_is_one_line(command: tuple[str, ...]) -> None:
    done = run(*command)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "readmit: no Temporal server: set READMIT_TEMPORAL_ADDRESS, pass --temporal-address "
        "or use `readmit run`"
    ]


def test_the_worker_entry_refuses_a_state_that_is_no_code() -> None:
    done = run("-m", "workers", "--state", "PLN", READMIT_TEMPORAL_ADDRESS="127.0.0.1:1")
    assert done.returncode == 2
    assert "not PLN" in done.stderr


def test_a_bad_setting_stops_readmit_run_with_its_variable() -> None:
    done = run("-m", "readmit.cli.main", "run", "--no-demo", READMIT_TEMPORAL_PORT="0")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "readmit: READMIT_TEMPORAL_PORT: Input should be greater than or equal to 1"
    )
