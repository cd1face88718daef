"""What the web tests share besides fixtures (imported by name: `conftest` is ambiguous when the
whole suite runs, since every test folder has one)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import httpx
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment


@dataclass
class Web:
    app: FastAPI
    pool: asyncpg.Pool
    env: WorkflowEnvironment
    base_url: str
    http: httpx.AsyncClient | None = None
