"""Shared fixtures: one PostgreSQL for the session, a fresh migrated schema for each test.

DATABASE_URL (as CI sets it) is used when set and must work; otherwise an embedded server is
started under READMIT_HOME (default ./.readmit) and stopped at the end if this session started
it. Tests needing PostgreSQL are skipped, loudly, only when neither can be had.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import structlog
from runtime_support import RUNTIME_ROLE
from temporalio.testing import WorkflowEnvironment

from adapters.db.embedded import EmbeddedPostgresError
from adapters.db.migrate import migrate_dsn
from adapters.db.pool import connect, create_pool, quote_ident
from adapters.db.roles import dsn_as
from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings
from adapters.temporal.binaries import test_server_path
from adapters.temporal.codec import Keyring, data_converter
from adapters.temporal.search_attributes import register


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """A CLI command run in-process configures logging for the whole process (its level, where
    lines go): each test gets back the configuration it started with, so a later test's
    `capture_logs` sees every line whichever commands ran before it."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A DSN for a database in which tests may create and drop schemas."""
    server = Settings().postgres()
    if isinstance(server, str):
        yield server
        return
    try:
        dsn = server.start()
    except EmbeddedPostgresError as error:
        pytest.skip(
            "NO POSTGRESQL: DATABASE_URL is unset and the embedded server failed to start: "
            f"{str(error).splitlines()[0]}"
        )
    yield dsn
    if server.started_here:
        server.stop()


@pytest.fixture
async def db_schema(database_url: str) -> AsyncIterator[str]:
    """A new schema `t_<random>` with all migrations applied, dropped after the test."""
    schema = f"t_{secrets.token_hex(6)}"
    await migrate_dsn(database_url, schema=schema, create_schema=True)
    yield schema
    conn = await connect(database_url)
    try:
        await conn.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def pool(database_url: str, db_schema: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool whose connections see only the test's schema."""
    pool = await create_pool(database_url, schema=db_schema, min_size=1, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture
async def runtime_dsn(database_url: str, db_schema: str) -> str:
    """A DSN logging in as the runtime role, searching only the test's schema: the test's schema
    migrated again by the owner with the role given LOGIN (the processes' DSN in production)."""
    await migrate_dsn(database_url, schema=db_schema, runtime=RUNTIME_ROLE)
    dsn = dsn_as(database_url, RUNTIME_ROLE.name, RUNTIME_ROLE.password)
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}search_path={db_schema}"


@pytest.fixture
async def runtime_pool(runtime_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the test's schema logged in as the runtime role."""
    pool = await create_pool(runtime_dsn, min_size=1, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    return Keyring({"test-1": os.urandom(32)}, "test-1")


@pytest.fixture(scope="session")
def master_keys() -> dict[str, str]:
    """The session's master key, as `READMIT_MASTER_KEYS` gives it (base64 by id)."""
    return {"master-1": Keyring.new_key()}


@pytest.fixture(scope="session")
def master_keyring(master_keys: dict[str, str]) -> Keyring:
    return Keyring.from_encoded(master_keys, "master-1", what="master")


@pytest.fixture
def vault(pool: asyncpg.Pool, master_keyring: Keyring) -> PersonalDataVault:
    """The case data keys of the test's schema, wrapped by the session's master key."""
    return PersonalDataVault(pool, master_keyring)


@pytest.fixture
async def time_env(keyring: Keyring) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own (about 0.2 s to start): its clock starts at the
    present, and no workflow of another test can hold it back or reuse a case id."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()), data_converter=data_converter(keyring)
    )
    await register(env.client)  # the case workflows' search attributes
    yield env
    await env.shutdown()


@pytest.fixture
def schema_dsn(database_url: str, db_schema: str) -> str:
    """A DSN whose connections search only the test's schema (for processes and apps)."""
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}search_path={db_schema}"
