"""Moving the time-skipping test server's clock (simulator, tests).

Firing many timers on a busy machine can outlast one RPC's timeout, so an interrupted sleep is
resumed for the remainder until the target instant is reached.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

_ATTEMPTS = 20


async def advance_to(env: WorkflowEnvironment, target: datetime) -> None:
    """Sleep the server's clock until `target` (no-op if it is already past)."""
    for _ in range(_ATTEMPTS):
        remaining = (target - await env.get_current_time()).total_seconds()
        if remaining <= 0:
            break
        try:
            await env.sleep(remaining)
        except RPCError as error:
            if "Timeout" not in str(error):
                raise
    await asyncio.sleep(0.05)  # let workers pick up what the timers started
