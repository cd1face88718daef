"""Attachments as the runtime role (adapters/db/privileges.py: `case_attachments` SELECT,
INSERT, DELETE): it stores, reads back, takes away a refused upload's bytes and erases a case's
files with its key, and it cannot change stored bytes."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest
from api_harness import Api
from attachment_files import png
from test_attachments_api import opened_case, upload, written
from test_runtime_role_walk import runtime_api

pytestmark = pytest.mark.temporal
__all__ = ["runtime_api"]  # the fixture, shared with the runtime role's case walk


async def test_attachments_need_no_more_than_the_runtime_roles_privileges(
    runtime_api: Api, pool: asyncpg.Pool
) -> None:
    api = runtime_api
    case_id = await opened_case(api)
    anna = api.as_("anna.pl", "officer", "PL")
    scan = png(41)
    added = await upload(api, case_id, anna, scan)
    assert added.status_code == 201, added.text
    got = await api.http.get(added.json()["download"], headers=anna)
    assert (got.status_code, got.content) == (200, scan)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await api.pool.execute("UPDATE case_attachments SET sealed = '\\x00'::bytea")

    refused_case = await opened_case(api, submit=False)
    withdrawn = await api.http.post(
        f"/cases/{refused_case}/withdraw", json={"reasons": ["mistake"]}, headers=anna
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert (await upload(api, refused_case, anna, png(42))).status_code == 409
    assert await written(api, refused_case) == (0, 0)  # the refused upload's bytes deleted

    assert await api.services.vault.erase([case_id], datetime.now(UTC), "test") == [case_id]
    assert (
        await pool.fetchval("SELECT count(*) FROM case_attachments WHERE case_id = $1", case_id)
        == 0
    )
