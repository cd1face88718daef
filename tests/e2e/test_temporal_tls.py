"""Readmit's Temporal connections over TLS and mutual TLS, as the settings configure them.

The dev server speaks no TLS, so a real TLS terminator (tls_terminator.py; certificates made by
a CA of the test's own) stands in front of it, as a load balancer or Temporal's own frontend TLS
does in production. Workers and the API's gateway connect through it with `connect_client`,
and a case is opened; a client checking against another CA or name, or without the client
certificate the terminator requires, gets no connection. (An API key is sent on such a
connection too; the dev server has no authorizer that would check it.)
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from e2e.case_walks import ANNA, new_case_id, opening
from e2e.stack_support import KEY, KEY_ID
from e2e.tls_terminator import Authority, TlsTerminator
from pydantic import SecretStr
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.testing import WorkflowEnvironment
from workers_support import running_workers, signer

from adapters.db.eventstore import EventStore
from adapters.protection.vault import PersonalDataVault
from adapters.settings import Settings
from adapters.temporal.cases import CaseGateway
from adapters.temporal.client import connect_client

pytestmark = pytest.mark.temporal


def upstream(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


def settings(**tls: Any) -> Settings:
    """The environment's settings with the dev server's payload key and the TLS ones given."""
    return Settings(payload_keys={KEY_ID: KEY}, payload_key_id=KEY_ID, **tls)


@contextlib.asynccontextmanager
async def terminator(
    env: WorkflowEnvironment, authority: Authority, client_ca: Path | None = None
) -> AsyncIterator[TlsTerminator]:
    tls = TlsTerminator(upstream(env), authority.issue("frontend", server=True), client_ca)
    await tls.start()
    try:
        yield tls
    finally:
        await tls.stop()


async def refused(config: Settings, address: str) -> str:
    with pytest.raises(RuntimeError) as failed:
        await connect_client(config, address)
    return str(failed.value)


async def open_a_case(
    config: Settings, address: str, pool: asyncpg.Pool, vault: PersonalDataVault
) -> None:
    """Workers and the API's gateway, each on a client of its own through `address`: a case
    opened there is committed to the store."""
    prefix = f"tls{secrets.token_hex(3)}"
    workers_client = await connect_client(config, address)
    api_client = await connect_client(config, address)
    async with running_workers(
        workers_client, pool, ["PL", "UA"], master=vault.master, queue_prefix=prefix, sandbox=False
    ):
        gateway = CaseGateway(api_client, vault=vault, signer=signer(), queue_prefix=prefix)
        case_id, now = new_case_id(), datetime.now(UTC)
        result = await gateway.open(
            opening(case_id, now),
            ANNA,
        )
    assert result.status == "draft"
    assert [r.type for r in await EventStore(pool).read_stream(case_id)] == ["CaseOpened"]


async def test_tls_with_the_servers_ca(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault, tmp_path: Path
) -> None:
    ours, theirs = Authority(tmp_path, "ours"), Authority(tmp_path, "theirs")
    async with terminator(dev_env, ours) as tls:
        await open_a_case(settings(temporal_tls_server_ca=ours.pem), tls.address, pool, vault)
        assert tls.handshakes >= 2  # the workers' and the gateway's connections
        # an API key rides on the same TLS connection (the dev server does not check it)
        keyed = settings(temporal_tls_server_ca=ours.pem, temporal_api_key=SecretStr("rk-test"))
        client = await connect_client(keyed, tls.address)
        assert client.api_key == "rk-test"
        await client.workflow_service.get_system_info(GetSystemInfoRequest())
        # checked against another CA, or the system's: no connection
        assert "InvalidCertificate(UnknownIssuer)" in await refused(
            settings(temporal_tls_server_ca=theirs.pem), tls.address
        )
        assert "UnknownIssuer" in await refused(settings(temporal_tls=True), tls.address)
        # a certificate for `localhost` is no good for another name
        wrong_name = settings(
            temporal_tls_server_ca=ours.pem, temporal_tls_server_name="temporal.example"
        )
        assert "NotValidForName" in await refused(wrong_name, tls.address)
        # and in clear, the terminator does not answer gRPC
        assert "Failed client connect" in await refused(settings(), tls.address)


async def test_mutual_tls_with_a_client_certificate(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault, tmp_path: Path
) -> None:
    server_ca, client_ca = Authority(tmp_path, "server"), Authority(tmp_path, "clients")
    client = client_ca.issue("readmit-worker", server=False)
    async with terminator(dev_env, server_ca, client_ca=client_ca.pem) as tls:
        mutual = settings(
            temporal_tls_server_ca=server_ca.pem,
            temporal_tls_server_name="localhost",
            temporal_tls_client_cert=client.cert,
            temporal_tls_client_key=client.key,
        )
        await open_a_case(mutual, tls.address, pool, vault)
        # without a client certificate, or with one another CA issued: no connection
        assert "Failed client connect" in await refused(
            settings(temporal_tls_server_ca=server_ca.pem), tls.address
        )
        stranger = Authority(tmp_path, "stranger").issue("mallory", server=False)
        forged = mutual.model_copy(
            update={
                "temporal_tls_client_cert": stranger.cert,
                "temporal_tls_client_key": stranger.key,
            }
        )
        assert "Failed client connect" in await refused(forged, tls.address)
