"""Two federated nodes per test (federation_nodes.py), on the test's time-skipping server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from federation_nodes import Nodes, two_nodes
from temporalio.testing import WorkflowEnvironment

from adapters.temporal.codec import Keyring


@pytest.fixture
async def nodes(
    time_env: WorkflowEnvironment, database_url: str, keyring: Keyring, tmp_path: Path
) -> AsyncIterator[Nodes]:
    async with two_nodes(time_env, database_url, keyring, tmp_path) as both:
        yield both
