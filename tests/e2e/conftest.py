"""The dev server the end-to-end modules share: one per module (a module's tests may leave
workflows behind, never another module's concern); a module that needs one per test (killing
it, say) defines its own `dev_env`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from e2e.stack_support import start_dev_server
from temporalio.testing import WorkflowEnvironment


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()
