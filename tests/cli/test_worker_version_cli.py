"""`readmit worker-version`: the build id a release's case workers poll as, as JSON (what the
release procedure makes current), and a bad setting as one line naming its variable, exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from workers.versioning import code_hash


def run(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("READMIT_")}
    return subprocess.run(
        [sys.executable, "-m", "readmit.cli.main", "worker-version"],
        capture_output=True,
        text=True,
        timeout=50,
        env=clean | env,
    )


def shown(**env: str) -> dict[str, Any]:
    done = run(**env)
    assert done.returncode == 0, done.stderr
    loaded: dict[str, Any] = json.loads(done.stdout)
    return loaded


def test_unversioned_by_default_with_the_derived_build_id() -> None:
    version = shown()
    assert version["versioned"] is False and version["deployment"] is None
    assert version["build_id"] == f"{version['package_version']}+{code_hash()}"
    assert version["behavior"] == "auto_upgrade"


def test_the_settings_of_a_release() -> None:
    version = shown(
        READMIT_WORKER_DEPLOYMENT="readmit",
        READMIT_BUILD_ID="2027.1",
        READMIT_WORKER_VERSIONING_BEHAVIOR="pinned",
    )
    assert (version["versioned"], version["deployment"], version["build_id"]) == (
        True,
        "readmit",
        "2027.1",
    )
    assert version["behavior"] == "pinned"


def test_a_bad_setting_is_one_line() -> None:
    done = run(READMIT_WORKER_DEPLOYMENT="readmit/prod")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("readmit: READMIT_WORKER_DEPLOYMENT: ")
    assert len(done.stderr.strip().splitlines()) == 1
