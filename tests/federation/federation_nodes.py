"""Two federated nodes in one test: each state its own database schema, its own Temporal
namespace (on one time-skipping server, so both nodes share one virtual clock while their
workflows, ids included, stay apart), its own keys, workers and API. A node's deliveries reach
the other's API in-process through `PeerNetwork`, which can also take a peer down, as a network
outage would, or hand a test what went over the wire.

Kept out of conftest.py so that tests import it by a name no other test folder uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from adapters.db.migrate import migrate_dsn
from adapters.db.pool import connect, create_pool, quote_ident
from adapters.federation.identity import NodeIdentity
from adapters.federation.peers import PeerDirectory
from adapters.federation.store import ExchangeStore
from adapters.settings import Settings
from adapters.temporal.codec import Keyring, data_converter
from api.app import create_app
from api.auth import issue_dev_token
from api.services import Services
from workers.root import worker_root
from workflows.contracts import CaseView

STATES = ("PL", "UA")


@dataclass
class Sent:
    """One delivery over the peer network: to whom, the body, and the answer's status."""

    host: str
    body: bytes
    status: int


@dataclass
class PeerNetwork(httpx.AsyncBaseTransport):
    """The network between the nodes: a request to `https://<state>.node.test` reaches that
    node's app. A host in `down` cannot be reached (a connection error, as with a peer that is
    off); `tamper` may change a body on its way."""

    apps: dict[str, FastAPI] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)
    tamper: Callable[[bytes], bytes] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down or host not in self.apps:
            raise httpx.ConnectError(f"{host} unreachable", request=request)
        body = await request.aread()
        if self.tamper is not None:
            body = self.tamper(body)
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=body
        )
        transport = httpx.ASGITransport(app=self.apps[host])
        response = await transport.handle_async_request(forwarded)
        await response.aread()
        self.sent.append(Sent(host, body, response.status_code))
        return response


def host_of(state: str) -> str:
    return f"{state.lower()}.node.test"


@dataclass
class Node:
    state: str
    identity: NodeIdentity
    settings: Settings
    secret: str
    pool: asyncpg.Pool
    client: Client
    app: FastAPI
    http: httpx.AsyncClient
    dsn: str  # the node's schema, for processes (a CLI command run against the node)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    @property
    def exchange(self) -> ExchangeStore:
        return ExchangeStore(self.pool)

    def as_(self, user: str, role: str = "officer") -> dict[str, str]:
        """A bearer token of this node's for `user`, an officer of its state by default."""
        token = issue_dev_token(self.secret, user=user, role=role, state=self.state)  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {token}"}

    async def view(self, case_id: str) -> CaseView:
        return await self.services.gateway.view(case_id)


@dataclass
class Nodes:
    env: WorkflowEnvironment
    network: PeerNetwork
    by_state: dict[str, Node]

    def __getitem__(self, state: str) -> Node:
        return self.by_state[state]


async def eventually(check: Callable[[], Awaitable[Any]], what: str, seconds: float = 30.0) -> Any:
    """`check()`'s first truthy answer, asked every 0.1 s for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def two_nodes(
    env: WorkflowEnvironment,
    database_url: str,
    keyring: Keyring,
    folder: Path,
    *,
    clock_skew_seconds: int = 120,
    max_message_bytes: int = 1_048_576,
) -> AsyncIterator[Nodes]:
    """PL and UA, each a whole node, registered as each other's peers."""
    network = PeerNetwork()
    peer_http = httpx.AsyncClient(transport=network, timeout=10.0)
    identities = {
        state: NodeIdentity.create(state, f"https://{host_of(state)}") for state in STATES
    }
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(peer_http.aclose)
        nodes: dict[str, Node] = {}
        for state in STATES:
            schema = f"n{state.lower()}_{secrets.token_hex(5)}"
            await migrate_dsn(database_url, schema=schema, create_schema=True)
            stack.push_async_callback(_drop, database_url, schema)
            pool = await create_pool(database_url, schema=schema, min_size=1, max_size=20)
            stack.push_async_callback(pool.close)
            keys = identities[state].save(folder / state / "node-keys.json")
            secret = f"node-{state}-{secrets.token_hex(16)}"
            settings = Settings(
                jwt_secret=secret,
                queue_prefix=f"n{state.lower()}",
                database_url=None,
                master_keys={"master-1": Keyring.new_key()},
                rate_limit_writes="",
                rate_limit_writes_per_principal="",
                rate_limit_sign_in="",
                node_state=state,
                node_url=f"https://{host_of(state)}",
                node_keys_file=keys,
                federation_clock_skew_seconds=clock_skew_seconds,
                federation_max_message_bytes=max_message_bytes,
            )
            client = await Client.connect(
                env.client.service_client.config.target_host,
                namespace=state.lower(),
                data_converter=data_converter(keyring),
            )
            separator = "&" if "?" in database_url else "?"
            dsn = f"{database_url}{separator}search_path={schema}"
            app = create_app(settings, database_url=dsn, client=client)
            root = await stack.enter_async_context(
                worker_root(
                    settings,
                    [state],
                    background=False,
                    client=client,
                    pool=pool,
                    peer_http=peer_http,
                )
            )
            await stack.enter_async_context(root.running())
            await stack.enter_async_context(app.router.lifespan_context(app))
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url=f"https://{host_of(state)}"
                )
            )
            network.apps[host_of(state)] = app
            nodes[state] = Node(
                state, identities[state], settings, secret, pool, client, app, http, dsn
            )
        now = datetime.now(UTC)
        for state, node in nodes.items():
            for other in STATES:
                if other != state:
                    await PeerDirectory(node.pool, own_state=state).add(
                        identities[other].descriptor(), now
                    )
        for node in nodes.values():
            await eventually(functools.partial(_ready, node), f"{node.state}'s API ready")
        yield Nodes(env, network, nodes)


async def _ready(node: Node) -> bool:
    return (await node.http.get("/ready")).status_code == 200


async def _drop(database_url: str, schema: str) -> None:
    conn = await connect(database_url)
    try:
        await conn.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
    finally:
        await conn.close()
