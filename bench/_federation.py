"""Two federated nodes on this machine for the federation bench, built from the production parts
as `readmit run --federated` builds them: each state its own Settings (`node_settings`: its home,
key set and node key file, under a scratch folder), its own scratch schema, its own Temporal dev
server, its own workers (`worker_root`, delivering to the peer) and its own API (`create_app`,
served by uvicorn on a loopback port), and each registered as the other's peer. Messages between
the nodes travel over real HTTP, through the one `peer_http` client both nodes' deliveries use.

`Recorded` tells when a node has recorded a command's events, which on a crossing command means
its receipt is back and applied there: one query per node per poll, whatever the number of cases
waited on, so that watching does not load the machine being measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import uvicorn
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from adapters.db.event_queries import types_recorded
from adapters.federation.identity import NodeIdentity
from adapters.federation.peers import PeerDirectory
from adapters.logs import configure_logging
from adapters.settings import Settings, get_settings
from adapters.temporal.cases import CaseGateway
from api.app import create_app
from api.auth import issue_dev_token
from api.services import Services
from bench._support import dev_server, new_keyring, queue_prefix, schema_pool, scratch_schema
from readmit.cli.federation import node_settings
from workers.root import PEER_TIMEOUT, worker_root

HOST = "127.0.0.1"
READY_SECONDS = 60.0


@dataclass
class FederatedNode:
    """One state's node: its settings, pool, Temporal client and API (`url`, `http` to it)."""

    state: str
    settings: Settings
    pool: asyncpg.Pool
    client: Client
    services: Services
    url: str
    http: httpx.AsyncClient
    recorded: Recorded

    @property
    def gateway(self) -> CaseGateway:
        """The case gateway of the node's API (what its routes call)."""
        return self.services.gateway

    def as_officer(self, user: str) -> dict[str, str]:
        """A bearer token of this node's API for `user`, an officer of its state."""
        secret = self.settings.jwt_secret
        assert secret is not None  # the node's key set has one
        token = issue_dev_token(secret, user=user, role="officer", state=self.state)
        return {"Authorization": f"Bearer {token}"}


@dataclass
class FederatedNodes:
    """The nodes by state, the peer network's HTTP client and the first node's dev server
    (where a bench may run something else between the nodes' turns)."""

    by_state: dict[str, FederatedNode]
    peer_http: httpx.AsyncClient
    first_env: WorkflowEnvironment

    def __getitem__(self, state: str) -> FederatedNode:
        return self.by_state[state]


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the bench stops it, not a Ctrl-C meant for the run."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def consecutive_sockets(count: int) -> list[socket.socket]:
    """`count` listening sockets on consecutive loopback ports (`readmit run --federated` gives
    the nodes READMIT_API_PORT, +1, …), bound now so that no one else takes them."""
    for _ in range(50):
        first = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        first.bind((HOST, 0))
        port = int(first.getsockname()[1])
        bound = [first]
        try:
            for offset in range(1, count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                bound.append(sock)
                sock.bind((HOST, port + offset))
        except OSError:
            for sock in bound:
                sock.close()
            continue
        return bound
    raise RuntimeError(f"no {count} consecutive free ports on {HOST}")


@contextlib.asynccontextmanager
async def serving(app: FastAPI, sock: socket.socket, settings: Settings) -> AsyncIterator[None]:
    """The API served by uvicorn on `sock` until the block ends, configured as `readmit run`
    serves it (its keep-alive outlasting the peers' client pool's, so that a delivery is never
    sent on a connection the API is closing)."""
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        proxy_headers=False,
        timeout_keep_alive=settings.api_keep_alive_seconds,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # uvicorn's own error, if any
                raise RuntimeError("the API did not start")
            await asyncio.sleep(0.02)
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(SystemExit):
            await task
        sock.close()


async def _ready(http: httpx.AsyncClient, state: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while (await http.get("/ready")).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {state} node's API is not ready after {READY_SECONDS:.0f} s")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def federated_nodes(
    states: tuple[str, ...] = ("PL", "UA"),
    *,
    dsn: str | None = None,
    poll_seconds: float = 0.005,
) -> AsyncIterator[FederatedNodes]:
    """A node per state in `states`, each its own scratch schema (on `dsn`, else the settings'
    database), dev server, workers and API, registered as each other's peers; everything
    stopped and dropped at the end."""
    now = datetime.now(UTC)
    # the APIs' catalogue warnings at start (unverified agreement values), once per node, are
    # not the bench's news: errors only until the nodes are up, then warnings as the workers'
    configure_logging("ERROR")
    sockets = consecutive_sockets(len(states))
    async with contextlib.AsyncExitStack() as stack:
        for sock in sockets:
            stack.callback(sock.close)
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fed-")))
        base = get_settings().model_copy(
            update={
                "home": home,
                "api_host": HOST,
                "api_port": int(sockets[0].getsockname()[1]),
                "notify_channels": ("inbox",),
                "rate_limit_writes": "",
                "rate_limit_writes_per_principal": "",
                "rate_limit_sign_in": "",
            }
        )
        peer_http = await stack.enter_async_context(
            httpx.AsyncClient(timeout=PEER_TIMEOUT, follow_redirects=False)
        )
        nodes: dict[str, FederatedNode] = {}
        identities: dict[str, NodeIdentity] = {}
        envs: list[WorkflowEnvironment] = []
        for index, (state, sock) in enumerate(zip(states, sockets, strict=True)):
            config, identity = node_settings(base, state, index, now)
            config = config.model_copy(update={"queue_prefix": queue_prefix(f"f{state.lower()}")})
            identities[state] = identity
            schema = scratch_schema(f"bench_f{state.lower()}", dsn)
            scratch = await stack.enter_async_context(schema)
            pool = await stack.enter_async_context(schema_pool(scratch))
            env = await stack.enter_async_context(dev_server(new_keyring()))
            envs.append(env)
            root = await stack.enter_async_context(
                worker_root(
                    config,
                    [state],
                    background=False,
                    client=env.client,
                    pool=pool,
                    peer_http=peer_http,
                )
            )
            await stack.enter_async_context(root.running())
            app = create_app(config, database_url=scratch.schema_dsn, client=env.client)
            await stack.enter_async_context(serving(app, sock, config))
            url = identity.url
            http = await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=PEER_TIMEOUT)
            )
            await _ready(http, state)
            recorded = await stack.enter_async_context(watching(pool, poll_seconds))
            nodes[state] = FederatedNode(
                state, config, pool, env.client, app.state.services, url, http, recorded
            )
        for state, node in nodes.items():
            directory = PeerDirectory(node.pool, own_state=state)
            for other, identity in identities.items():
                if other != state:
                    await directory.add(identity.descriptor(now), now)
        configure_logging("WARNING")
        yield FederatedNodes(nodes, peer_http, envs[0])


@dataclass
class Recorded:
    """Waits until events of a type are in a node's store for a case: every `poll_seconds`,
    while anyone waits, one query over all the (case, type) pairs waited on."""

    pool: asyncpg.Pool
    poll_seconds: float
    waiting: dict[tuple[str, str], list[asyncio.Future[float]]] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, case_id: str, event_type: str, seconds: float = 60.0) -> float:
        """The `time.perf_counter()` instant of the first query that found an `event_type`
        event of `case_id` in the store: its commit was at most one poll before."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault((case_id, event_type), []).append(future)
        self.wake.set()
        try:
            return await asyncio.wait_for(future, seconds)
        except TimeoutError:
            raise RuntimeError(
                f"{case_id}: no {event_type} recorded within {seconds:.0f} s"
            ) from None
        finally:
            waiters = self.waiting.get((case_id, event_type), [])
            if future in waiters:
                waiters.remove(future)
                if not waiters:
                    del self.waiting[(case_id, event_type)]

    async def follow(self) -> None:
        """Poll while anyone waits; sleep on `wake` otherwise."""
        while True:
            if not self.waiting:
                self.wake.clear()
                await self.wake.wait()
            pairs = list(self.waiting)
            asked = time.perf_counter()  # a row found was committed before this query's snapshot
            try:
                found = await types_recorded(
                    self.pool, {case for case, _ in pairs}, {kind for _, kind in pairs}
                )
            except Exception as error:  # the waiters learn why, rather than time out
                for futures in self.waiting.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(error)
                raise
            for pair in found:
                for future in self.waiting.pop(pair, []):
                    if not future.done():
                        future.set_result(asked)
            await asyncio.sleep(self.poll_seconds)


@contextlib.asynccontextmanager
async def watching(pool: asyncpg.Pool, poll_seconds: float) -> AsyncIterator[Recorded]:
    recorded = Recorded(pool, poll_seconds)
    task = asyncio.create_task(recorded.follow())
    try:
        yield recorded
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
