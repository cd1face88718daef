"""What the web tests share besides fixtures (imported by name: `conftest` is ambiguous when the
whole suite runs, since every test folder has one)."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg
import httpx
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

SECRET = "test-secret-for-the-web-tests-only-0123456789"


@dataclass
class Web:
    app: FastAPI
    pool: asyncpg.Pool
    env: WorkflowEnvironment
    base_url: str
    http: httpx.AsyncClient | None = None
    problems: list[str] = field(default_factory=list)  # errors the browser reported
