"""`readmit run` notices workers that stop on their own (a fatal worker error, a background
loop that raised): it says so in one line, stops everything and exits 1, rather than keep an
API up in front of nothing."""

from __future__ import annotations

import asyncio
import io
import socket

from rich.console import Console

from adapters.settings import Settings
from readmit.cli.run import Node, Supervisor


async def test_workers_that_stop_on_their_own_stop_readmit_run_with_exit_1() -> None:
    out = io.StringIO()
    with socket.socket() as unused:
        node = Node(Settings(), ["PL"], dev=None, api_socket=unused)
        supervisor = Supervisor(Settings(), [node], demo=False, console=Console(file=out))

        async def failing() -> None:
            await asyncio.sleep(0.05)
            raise RuntimeError("Worker validation failed: namespace not found\ndetails")

        node.workers = asyncio.create_task(failing())
        await asyncio.wait_for(supervisor._watch_workers(node), timeout=5)
    assert supervisor.stop.is_set() and supervisor.code == 1
    assert out.getvalue().splitlines() == [
        "✗ the workers stopped: Worker validation failed: namespace not found"
    ]


async def test_workers_stopped_on_the_way_out_are_no_failure() -> None:
    with socket.socket() as unused:
        node = Node(Settings(), ["PL"], dev=None, api_socket=unused)
        supervisor = Supervisor(Settings(), [node], demo=False, console=Console())
        supervisor._stopping = True
        node.workers = asyncio.create_task(asyncio.sleep(0))
        await asyncio.wait_for(supervisor._watch_workers(node), timeout=5)
    assert not supervisor.stop.is_set() and supervisor.code == 0
