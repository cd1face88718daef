"""The event loop of Readmit's long-running processes (workers, `readmit run`, the benches).

uvloop where it is installed (a dependency on Linux and macOS): the same asyncio API on libuv,
with cheaper scheduling and socket I/O for everything these processes do (Temporal task
activations, PostgreSQL round trips). Measured with the lifecycle bench on 2 CPUs: about 10 %
more cases per second. Elsewhere, plain `asyncio.run`. Short CLI commands keep `asyncio.run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on a new event loop (uvloop when available)."""
    try:
        import uvloop
    except ImportError:  # e.g. Windows
        return asyncio.run(main)
    return uvloop.run(main)
