"""PostgreSQL's client tools (pg_dump, pg_restore) for the backup tests: the ones matching the
server, found where Debian's postgresql-client puts them (`/usr/lib/postgresql/<major>/bin`),
in an installed `pgserver`, or on PATH. A missing tool fails the test, loudly: a backup test
that skips proves nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from adapters.db.embedded import candidate_bin_dirs


def _major(tool: Path) -> int:
    out = subprocess.run([str(tool), "--version"], capture_output=True, text=True, check=True)
    match = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return int(match.group(1)) if match else 0


def client_tool(name: str, server_major: int) -> Path:
    """`name` of a major version at least the server's (pg_dump refuses newer servers)."""
    found = [d / name for d in candidate_bin_dirs()]
    found += [Path(d) / name for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"))]
    if on_path := shutil.which(name):
        found.append(Path(on_path))
    usable = [t for t in dict.fromkeys(found) if t.is_file() and _major(t) >= server_major]
    if not usable:
        pytest.fail(
            f"NO {name} FOR POSTGRESQL {server_major}: install Debian's postgresql-client "
            f"(looked in {', '.join(str(t.parent) for t in found) or 'nowhere'})"
        )
    return usable[0]
