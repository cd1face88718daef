"""The running system a case test drives: gateway, store, pool, and the clock to move.

Kept out of conftest.py so that tests can import it by a name no other test folder uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from adapters.db.eventstore import EventStore
from adapters.temporal.cases import CaseGateway
from adapters.temporal.clock import advance_to


@dataclass
class CaseSystem:
    """A running system for one test: gateway, store, pool, and the clock to move."""

    env: WorkflowEnvironment
    client: Client
    gateway: CaseGateway
    store: EventStore
    pool: asyncpg.Pool
    prefix: str

    async def sleep(self, seconds: float) -> None:
        """Move the server's clock `seconds` ahead."""
        await advance_to(self.env, await self.env.get_current_time() + timedelta(seconds=seconds))
