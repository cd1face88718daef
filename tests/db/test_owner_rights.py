"""`owner_rights`: what production's API and workers refuse to run as, with a real PostgreSQL."""

from __future__ import annotations

import pytest

from adapters.db.pool import connect
from adapters.db.privileges import owner_rights

pytestmark = pytest.mark.db


async def test_the_superuser_has_the_owners_rights(schema_dsn: str) -> None:
    conn = await connect(schema_dsn)
    try:
        why = await owner_rights(conn)
    finally:
        await conn.close()
    assert why is not None and why.endswith("is a superuser")


async def test_the_runtime_role_has_not(runtime_dsn: str) -> None:
    conn = await connect(runtime_dsn)
    try:
        assert await owner_rights(conn) is None
    finally:
        await conn.close()
