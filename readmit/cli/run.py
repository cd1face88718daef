"""`readmit run`: the whole system on one machine, in one supervising process.

It starts, in order: PostgreSQL (READMIT_MIGRATION_DATABASE_URL or DATABASE_URL, else an
embedded server under `home`), the migrations as that DSN's role (the owner), which also let the
runtime role log in, the agreement catalogue check, Temporal (READMIT_TEMPORAL_ADDRESS, else the
dev server of `readmit.embedded_temporal`), the demo officers and registry (as the owner),
workers for the chosen states with the outbox dispatcher and the projector, and the API, both
connected as the runtime role (`runtime_dsn`). A Ctrl-C (or SIGTERM) stops them in the reverse
order and keeps every byte of data under `home` for the next start; a second Ctrl-C stops at
once.

`readmit run --federated` starts one node per `--state` (default PL and UA; issue 16) the same
way, each from a Settings of its own (`readmit.cli.federation`): its own database on the one
PostgreSQL, its own Temporal dev server, its own keys under `<home>/nodes/<STATE>/`, its API on
READMIT_API_PORT plus its place in `--state`, only its state's demo officers and registry, and
the other nodes registered as its peers. `Node` is one stack; `Supervisor` starts and stops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib.resources import as_file, files
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from temporalio.client import Client

from adapters import aio
from adapters.agreements.catalogue import CatalogueError, load_catalogue
from adapters.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from adapters.db.migrate import MigrationError, migrate_dsn
from adapters.db.pool import connect, create_pool, quote_ident
from adapters.db.roles import RoleError, dsn_as
from adapters.directory import DirectoryError, Officer, import_directory, load_directory
from adapters.federation.identity import IdentityError, NodeDescriptor, NodeIdentity
from adapters.federation.peers import PeerDirectory, PeerKeyRefused, PeerUpdateRefused
from adapters.keys import jwt_secret, master_keyring
from adapters.logs import configure_logging
from adapters.registry import RegistryImportError, import_registry_csv
from adapters.settings import Settings, get_settings
from adapters.temporal.binaries import BinaryNotFound
from adapters.temporal.client import connect_client
from adapters.temporal.runtime import exit_now, install_runtime
from adapters.temporal.search_attributes import register as register_search_attributes
from api.app import create_app
from api.auth import issue_dev_token
from readmit.cli.common import EXIT_BAD_INPUT, EXIT_OK, fail
from readmit.cli.federation import (
    FEDERATED_STATES,
    NodeSetupError,
    database_name,
    demo_officers,
    demo_registry_rows,
    node_database,
    node_home,
    node_settings,
)
from readmit.embedded_temporal import DevServer, DevServerError, PortBusy
from workers.command import DEFAULT_STATES, checked_states
from workers.root import worker_root
from workflows.contracts import cases_queue

EXIT_INTERRUPTED = 130
WEB = "/ui/"  # where the API serves its web pages, when it has them
API_GRACE_SECONDS = 5
T = TypeVar("T")


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)


def run_command(
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state",
            help="run workers for this state (repeatable; default: the demo set); with "
            "--federated, a node for this state (default: PL and UA)",
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="load the demo officers and registry")
    ] = True,
    headless: Annotated[
        bool, typer.Option("--headless", help="start the Temporal dev server without its web UI")
    ] = False,
    federated: Annotated[
        bool,
        typer.Option(
            "--federated",
            help="one node per --state, each with its own database, Temporal, keys and API "
            "(ports READMIT_API_PORT, +1, …), registered as each other's peers",
        ),
    ] = False,
) -> None:
    """Start PostgreSQL, Temporal, workers and the API on this machine, until Ctrl-C."""
    try:
        settings = run_settings(get_settings())
    except ValidationError as error:
        first = error.errors()[0]
        fail(f"READMIT_{str(first['loc'][0]).upper()}: {first['msg']}")
    if settings.production:
        fail(
            "`readmit run` is the development mode (demo sign-in, generated keys) and "
            "READMIT_ENV=production is set: run `readmit api` and `readmit worker` instead"
        )
    configure_logging(settings.log_level if "log_level" in settings.model_fields_set else "WARNING")
    if federated:
        nodes = federated_nodes(settings, state)
    else:
        states = checked_states(state or DEFAULT_STATES)
        nodes = [Node(settings, states, dev=None, api_socket=_bind_or_fail(settings, 0))]
    try:
        for index, node in enumerate(nodes):
            if settings.temporal_address is not None:
                continue
            node.dev = DevServer.for_home(
                node.settings.home,
                settings,
                headless=headless,
                namespace=settings.temporal_namespace,
                offset=index,
            )
            _decode_in_ui(node)
            node.dev.launch()  # first, while this process has no other thread
    except (PortBusy, BinaryNotFound, OSError) as error:
        for node in nodes:
            if node.dev is not None:
                node.dev.stop()
        if isinstance(error, PortBusy | BinaryNotFound):
            fail(str(error))
        fail(f"cannot start the Temporal dev server in {settings.home}: {error}")
    install_runtime()
    supervisor = Supervisor(settings, nodes, demo=demo, federated=federated)
    exit_now(aio.run(supervisor.run()))


def federated_nodes(settings: Settings, given: list[str] | None) -> list[Node]:
    """The nodes of `--federated`, in the order of `--state`: each node's settings, identity
    and key set (made on the first start), and its API's socket; a problem is one line, exit 2."""
    states = list(dict.fromkeys(checked_states(given or list(FEDERATED_STATES))))
    if len(states) < 2:
        fail("--federated needs at least two different --state, e.g. --state PL --state UA")
    if settings.temporal_address is not None:
        fail("--federated starts a Temporal dev server per node: unset READMIT_TEMPORAL_ADDRESS")
    now = datetime.now(UTC)
    nodes: list[Node] = []
    for index, code in enumerate(states):
        try:
            node_config, identity = node_settings(settings, code, index, now)
        except NodeSetupError as error:
            fail(str(error))
        node = Node(
            node_config,
            [code],
            dev=None,
            api_socket=_bind_or_fail(settings, index),
            label=code,
            identity=identity,
        )
        nodes.append(node)
    return nodes


def _decode_in_ui(node: Node) -> None:
    """Point the dev server's UI at the node's API codec, and let the API's codec answer that
    UI at both of its origins (`localhost` and `127.0.0.1`, `api.routes.codec.ui_origins`)."""
    assert node.dev is not None
    if node.dev.ui_port is None:
        return
    node.dev.codec_endpoint = f"{node.api_url}/codec"
    node.settings = node.settings.model_copy(update={"temporal_ui_port": node.dev.ui_port})


def _bind_or_fail(settings: Settings, offset: int) -> socket.socket:
    try:
        return bind(settings.api_host, settings.api_port + offset)
    except (PortBusy, StartupError) as error:
        fail(str(error))


def runtime_dsn(settings: Settings, owner_dsn: str) -> str:
    """The workers' and the API's DSN: DATABASE_URL when READMIT_MIGRATION_DATABASE_URL names
    another DSN for the owner (both given), else the owner's DSN logging in as the runtime role
    (READMIT_DB_RUNTIME_ROLE, with READMIT_DB_RUNTIME_PASSWORD when set)."""
    given, owner = settings.database_url, settings.migration_database_url
    if given and owner and given != owner:
        return given
    return dsn_as(owner_dsn, settings.db_runtime_role, settings.db_runtime_password)


def run_settings(settings: Settings) -> Settings:
    """`run` writes notices only to the in-app inbox unless SMTP or the channels are configured."""
    smtp_configured = settings.dispatch.smtp_host != "localhost"
    if "notify_channels" in settings.model_fields_set or smtp_configured:
        return settings
    return settings.model_copy(update={"notify_channels": ("inbox",)})


def bind(host: str, port: int) -> socket.socket:
    """The API's listening socket, bound now so a busy port is known before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortBusy(port, "API", "READMIT_API_PORT") from None
        raise StartupError(
            f"cannot listen on {host}:{port} ({error.strerror}): check READMIT_API_HOST"
        ) from None
    return sock


class StartupError(Exception):
    """A part could not start; the message is the one line the user sees."""


class Interrupted(Exception):
    """Ctrl-C arrived while starting."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the supervisor decides when the API stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Node:
    """One stack (Temporal, workers, API) started from one Settings object: the single
    installation's, or one state's node in `--federated` (`label`: its state, before each of
    its lines)."""

    settings: Settings
    states: list[str]
    dev: DevServer | None
    api_socket: socket.socket
    label: str = ""
    owner_dsn: str = ""  # migrations and demo data
    dsn: str = ""  # the workers and the API, as the runtime role
    temporal_address: str = ""
    workers: asyncio.Task[None] | None = None
    web_pages: bool = False
    identity: NodeIdentity | None = None

    @property
    def api_url(self) -> str:
        host = self.settings.api_host
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.settings.api_port}"

    @property
    def prefix(self) -> str:
        return f"{self.label} " if self.label else ""


@dataclass
class Supervisor:
    settings: Settings
    nodes: list[Node]
    demo: bool
    federated: bool = False
    console: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    pg: EmbeddedPostgres | None = None
    server_dsn: str = ""  # the owner's DSN of the PostgreSQL server (federated: its database)
    code: int = EXIT_OK
    _stopping: bool = False
    _last: str = ""  # the line a step prints when it is done

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal)
        started = time.monotonic()
        async with contextlib.AsyncExitStack() as parts:
            try:
                await self._start(parts)
            except Interrupted:
                pass
            except StartupError as error:
                self.console.print(f"[red]✗[/red] {error}")
                self.code = EXIT_BAD_INPUT
            else:
                self._print_ready(time.monotonic() - started)
                watches = [
                    asyncio.create_task(watch(node))
                    for node in self.nodes
                    for watch in (self._watch_dev_server, self._watch_workers)
                ]
                await self.stop.wait()
                for task in watches:
                    task.cancel()
            self._stopping = True
            self.say("stopping (Ctrl-C again to stop at once)…")
        self.say("✓ stopped; data kept in " + _shown(self.settings.home))
        return self.code

    # --- starting ------------------------------------------------------------------------------

    async def _start(self, parts: contextlib.AsyncExitStack) -> None:
        for node in self.nodes:
            if node.dev is not None:
                parts.push_async_callback(
                    self._stopping_part,
                    f"the {node.prefix}Temporal dev server",
                    partial(self._stop_dev_server, node),
                )
        self.server_dsn = await self._step("PostgreSQL", self._postgres(parts))
        for node in self.nodes:
            if self.federated:
                node.owner_dsn = await self._step(
                    f"{node.prefix}database", self._node_database(node)
                )
            else:
                node.owner_dsn = self.server_dsn
            node.dsn = await self._step(f"{node.prefix}migrations", self._migrate(node))
        await self._step("agreement catalogue", self._catalogue())
        clients = [
            await self._step(f"{node.prefix}Temporal", self._temporal(node)) for node in self.nodes
        ]
        if self.demo:
            for node in self.nodes:
                await self._step(f"{node.prefix}demo data", self._demo_data(node))
        if self.federated:
            await self._step("peers", self._peers())
        for node, client in zip(self.nodes, clients, strict=True):
            await self._step(f"{node.prefix}workers", self._workers(parts, node, client))
        for node, client in zip(self.nodes, clients, strict=True):
            await self._step(f"{node.prefix}API", self._api(parts, node, client))

    async def _step(self, name: str, work: Awaitable[T]) -> T:
        """Run one start step under a spinner; a Ctrl-C abandons it."""
        started = time.monotonic()
        task: asyncio.Future[T] = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(self.stop.wait())
        with self.console.status(f"starting {name}…"):
            racing: set[asyncio.Future[Any]] = {task, stopped}
            done, _ = await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if task not in done:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise Interrupted
        result = task.result()
        self.say(f"{self._last} [dim]({time.monotonic() - started:.1f} s)[/dim]")
        return result

    def done(self, line: str, node: Node | None = None) -> None:
        self._last = f"[green]✓[/green] {node.prefix if node else ''}{line}"

    async def _postgres(self, parts: contextlib.AsyncExitStack) -> str:
        source = self.settings.postgres(self.settings.migration_database_url)
        if isinstance(source, str):
            self.done(f"PostgreSQL at {redact(source)}")
            return source
        pg = self.pg = source
        starting = asyncio.ensure_future(asyncio.to_thread(pg.start))

        async def stop_postgres() -> None:
            with contextlib.suppress(BaseException):
                await asyncio.shield(starting)  # a start cut short by Ctrl-C still finishes
            if pg.started_here:
                self.say("  stopping PostgreSQL")
                await asyncio.to_thread(pg.stop)

        parts.push_async_callback(self._stopping_part, "PostgreSQL", stop_postgres)
        try:
            dsn = await asyncio.shield(starting)
        except EmbeddedPostgresError as error:
            raise StartupError(f"cannot start the embedded PostgreSQL: {_first(error)}") from None
        how = "started" if pg.started_here else "already running"
        self.done(f"PostgreSQL (embedded, {how}) in {_shown(pg.data_dir)}")
        return dsn

    async def _node_database(self, node: Node) -> str:
        """The node's own database on the server (created on the first start), as the owner;
        the node's settings then name it, and its runtime DSN the same database."""
        dsn = node_database(self.server_dsn, node.label)
        name = database_name(dsn)
        try:
            conn = await connect(self.server_dsn)
            try:
                exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
                if not exists:
                    with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                        await conn.execute(f"CREATE DATABASE {quote_ident(name)}")
            finally:
                await conn.close()
        except (OSError, TimeoutError, ValueError, asyncpg.PostgresError) as error:
            raise StartupError(
                f"cannot create the database {name} of node {node.label}: {_first(error)}"
            ) from None
        runtime = self.settings.database_url
        if runtime and runtime != self.settings.migration_database_url:
            runtime = node_database(runtime, node.label)
        node.settings = node.settings.model_copy(
            update={"migration_database_url": dsn, "database_url": runtime or dsn}
        )
        self.done(f"database {name}{'' if exists else ' (created)'}", node)
        return dsn

    async def _migrate(self, node: Node) -> str:
        """Migrate as the owner, letting the runtime role log in; its DSN, once it connects."""
        role = node.settings.runtime_role(login=True)
        try:
            outcomes = await migrate_dsn(node.owner_dsn, runtime=role)
            dsn = runtime_dsn(node.settings, node.owner_dsn)
        except (MigrationError, RoleError) as error:
            raise StartupError(f"migrations: {_first(error)}") from None
        except (OSError, TimeoutError, ValueError, asyncpg.PostgresError) as error:
            raise StartupError(f"cannot connect to PostgreSQL: {_first(error)}") from None
        try:
            await (await connect(dsn)).close()
        except (OSError, TimeoutError, ValueError, asyncpg.PostgresError) as error:
            raise StartupError(
                f"cannot connect as the runtime role {role.name}: {_first(error)} (set "
                "READMIT_DB_RUNTIME_PASSWORD, or DATABASE_URL and READMIT_MIGRATION_DATABASE_URL)"
            ) from None
        applied = sum(o.status == "applied" for o in outcomes)
        state = f"{applied} applied" if applied else "up to date"
        self.done(f"migrations ({state}); processes connect as {role.name}", node)
        return dsn

    async def _catalogue(self) -> None:
        try:
            catalogue = await asyncio.to_thread(load_catalogue, self.settings.agreements_dir)
        except CatalogueError as error:
            raise StartupError(error.one_line()) from None
        self.done(
            f"agreement catalogue: {len(catalogue.agreements)} agreements "
            f"({', '.join(sorted(catalogue.agreements))}), {len(catalogue.protocols)} protocols"
        )

    async def _temporal(self, node: Node) -> Client:
        settings = node.settings
        if node.dev is not None:
            try:
                await node.dev.wait_ready(settings.temporal_namespace)
            except DevServerError as error:
                raise StartupError(str(error)) from None
            node.temporal_address = node.dev.address
            ui = f" (UI {node.dev.ui_url})" if node.dev.ui_url else " (headless)"
            reused = ", already running" if node.dev.reused else ""
            self.done(f"Temporal dev server at {node.dev.address}{ui}{reused}", node)
        else:
            assert settings.temporal_address is not None
            node.temporal_address = settings.temporal_address
            self.done(
                f"Temporal at {node.temporal_address} (namespace {settings.temporal_namespace})",
                node,
            )
        try:
            client = await connect_client(settings, node.temporal_address)
        except RuntimeError as error:
            raise StartupError(f"cannot connect to Temporal: {_first(error)}") from None
        if node.dev is not None and node.dev.reused:
            # a dev server started before the cases had search attributes lacks them
            await register_search_attributes(client)
        return client

    async def _demo_data(self, node: Node) -> None:
        demo = files("readmit.demo")
        try:
            if self.federated:
                officers = await asyncio.to_thread(demo_officers, node.label)
            else:
                with as_file(demo / "officers.toml") as officers_file:
                    officers = await asyncio.to_thread(load_directory, Path(officers_file))
            conn = await connect(node.owner_dsn)
            try:
                await import_directory(conn, officers, master=master_keyring(node.settings))
            finally:
                await conn.close()
            pool = await create_pool(node.owner_dsn, min_size=1, max_size=2)
            try:
                if self.federated:
                    with tempfile.TemporaryDirectory() as scratch:
                        rows = Path(scratch) / "registry.csv"
                        await asyncio.to_thread(demo_registry_rows, node.label, rows)
                        report = await import_registry_csv(pool, rows)
                else:
                    with as_file(demo / "registry.csv") as registry_file:
                        report = await import_registry_csv(pool, Path(registry_file))
            finally:
                await pool.close()
        except (DirectoryError, RegistryImportError) as error:
            raise StartupError(f"demo data: {_first(error)}") from None
        self.done(
            f"demo data: {len(officers)} officers, {report.persons} persons in registries", node
        )

    async def _peers(self) -> None:
        """Each node registers every other one as its peer (their keys rotated in should a
        node's key file have been made anew; a peer its administrator revoked stays revoked)."""
        now = datetime.now(UTC)
        overlap = timedelta(days=self.settings.federation_key_overlap_days)
        notes: list[str] = []
        for node in self.nodes:
            pool = await create_pool(node.owner_dsn, min_size=1, max_size=2)
            try:
                directory = PeerDirectory(pool, own_state=node.label)
                for other in self.nodes:
                    if other is node:
                        continue
                    assert other.identity is not None
                    note = await register_peer(
                        directory, other.identity.descriptor(now), overlap, now
                    )
                    if note:
                        notes.append(f"{node.label}: {note}")
            except (PeerKeyRefused, PeerUpdateRefused, IdentityError) as error:
                raise StartupError(f"peers of node {node.label}: {error}") from None
            finally:
                await pool.close()
        states = " ⇄ ".join(n.label for n in self.nodes)
        self.done(f"peers: {states} registered with each other" + "".join(f"; {n}" for n in notes))

    async def _workers(self, parts: contextlib.AsyncExitStack, node: Node, client: Client) -> None:
        settings = node.settings
        root = await parts.enter_async_context(
            worker_root(settings, node.states, dsn=node.dsn, client=client, migrate=False)
        )
        worker_stop = asyncio.Event()
        runner = node.workers = asyncio.create_task(root.run(worker_stop))

        async def stop_workers() -> None:
            self.say(f"  stopping {node.prefix}workers (in-flight tasks finish)")
            worker_stop.set()
            with contextlib.suppress(Exception):  # a failure was reported when it happened
                await runner

        parts.push_async_callback(self._stopping_part, f"the {node.prefix}workers", stop_workers)
        while not all(w.is_running for w in root.workers):  # validated and polling
            if runner.done():
                raise StartupError(f"{node.prefix}workers: {_workers_failure(runner)}")
            await asyncio.sleep(0.02)
        channels = ", ".join(settings.notify_channels)
        self.done(
            f"workers for {', '.join(node.states)} on {cases_queue(settings.queue_prefix)} "
            f"and the state queues (notices: {channels})",
            node,
        )

    async def _api(self, parts: contextlib.AsyncExitStack, node: Node, client: Client) -> None:
        app = create_app(node.settings, database_url=node.dsn, client=client)
        node.web_pages = any(str(getattr(r, "path", "")).startswith(WEB) for r in app.routes)
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            proxy_headers=False,  # api.hardening applies READMIT_TRUSTED_PROXIES instead
            timeout_graceful_shutdown=API_GRACE_SECONDS,
            timeout_keep_alive=node.settings.api_keep_alive_seconds,
        )
        server = _Server(config)
        serving = asyncio.create_task(_serve(server, node.api_socket))

        async def stop_api() -> None:
            self.say(f"  stopping the {node.prefix}API")
            server.should_exit = True
            await serving

        parts.push_async_callback(self._stopping_part, f"the {node.prefix}API", stop_api)
        while not server.started:
            if serving.done():
                raise StartupError(
                    "the API did not start (see the lines above; READMIT_LOG_LEVEL=INFO for more)"
                )
            await asyncio.sleep(0.02)
        self.done(f"API on {node.api_url} (docs {node.api_url}/docs)", node)

    # --- running and stopping --------------------------------------------------------------------

    def _print_ready(self, seconds: float) -> None:
        self.say(f"ready in {seconds:.1f} s")
        lines = federated_ready_lines(self) if self.federated else ready_lines(self)
        for line in lines:
            self.console.print(line, markup=False)

    async def _watch_dev_server(self, node: Node) -> None:
        """Stop everything, exit 1, should a dev server die under the workers."""
        process = node.dev.process if node.dev is not None else None
        if process is None:
            return
        await asyncio.to_thread(process.wait)
        if self._stopping:
            return
        self.console.print(
            f"[red]✗[/red] the {node.prefix}Temporal dev server exited ({process.returncode}); "
            f"its log: {_shown(node.dev.log_file) if node.dev else ''}"
        )
        self.code = 1
        self.stop.set()

    async def _watch_workers(self, node: Node) -> None:
        """Stop everything, exit 1, should the workers stop on their own (a worker's fatal
        error, a background loop that raised): a `run` serving nothing must not look alive."""
        if node.workers is None:
            return
        await asyncio.wait({node.workers})
        if self._stopping:
            return
        self.console.print(
            f"[red]✗[/red] the {node.prefix}workers stopped: {_workers_failure(node.workers)}"
        )
        self.code = 1
        self.stop.set()

    def _on_signal(self) -> None:
        if not self.stop.is_set():
            self.stop.set()
            if not self._stopping:
                self.console.print()
            return
        self.console.print("forced stop", markup=False)
        for node in self.nodes:
            if node.dev is not None:
                node.dev.kill()
        if self.pg is not None and self.pg.started_here:
            with contextlib.suppress(EmbeddedPostgresError, OSError):
                self.pg.stop()
        exit_now(EXIT_INTERRUPTED)

    async def _stopping_part(self, name: str, stop: Callable[[], Awaitable[None]]) -> None:
        """Stop one part; a part that fails to stop is reported and the others still stop."""
        try:
            await stop()
        except Exception as error:
            self.console.print(f"[yellow]![/yellow] could not stop {name}: {_first(error)}")

    async def _stop_dev_server(self, node: Node) -> None:
        dev = node.dev
        if dev is not None and dev.process is not None:
            self.say(f"  stopping the {node.prefix}Temporal dev server")
            await asyncio.to_thread(dev.stop)

    def say(self, line: str) -> None:
        self.console.print(line)


async def register_peer(
    directory: PeerDirectory, descriptor: NodeDescriptor, overlap: timedelta, at: datetime
) -> str:
    """Register the node `descriptor` describes as a peer, or bring it up to date (new keys,
    a new URL); what was out of the ordinary, or "" ."""
    peer = await directory.get(descriptor.state)
    if peer is None:
        await directory.add(descriptor, at)
        return ""
    if peer.revoked(at):
        return f"peer {descriptor.state} is revoked here and stays so"
    usable = {k.kid for k in peer.keys if k.status(at) == "active"}
    if peer.url == descriptor.url and {k.kid for k in descriptor.keys} == usable:
        return ""
    rotation = await directory.rotate(descriptor, overlap, at)
    return f"peer {descriptor.state} updated ({len(rotation.added)} new keys)"


async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    """Serve until told to stop; uvicorn's exit on a failed startup must not end `run`."""
    try:
        await server.serve(sockets=[sock])
    except SystemExit:
        pass
    finally:
        sock.close()


def ready_lines(supervisor: Supervisor) -> list[str]:
    """What runs where, and how to call the API."""
    node = supervisor.nodes[0]
    s = node.settings
    url = node.api_url
    dev = node.dev
    lines = ["", "Readmit is running. Ctrl-C stops everything; data stays in " + _shown(s.home)]
    lines.append(f"  API          {url}   OpenAPI {url}/docs   readiness {url}/ready")
    secret = jwt_secret(s)
    if node.web_pages:
        hint = " (sign in as one of the demo users)" if secret and supervisor.demo else ""
        lines.append(f"  web pages    {url}{WEB}{hint}")
    temporal = node.temporal_address
    if dev is not None and dev.ui_url:
        temporal += f"   UI {dev.ui_url}"
    lines.append(f"  Temporal     {temporal}   namespace {s.temporal_namespace}")
    lines.append(f"  PostgreSQL   {redact(node.dsn)}   (migrations: {redact(node.owner_dsn)})")
    lines.append(f"  workers      {', '.join(node.states)}")
    if secret is None:
        lines += ["", "Tokens: from your identity provider (HS256 development tokens are off)."]
        return lines
    me = sys.argv[0] if Path(sys.argv[0]).name == "readmit" else "readmit"
    token = issue_dev_token(
        secret, user="anna.pl", role="officer", state="PL", ttl_minutes=s.token_ttl_minutes
    )
    lines += [
        "",
        f"A development token for anna.pl (officer, PL), valid {s.token_ttl_minutes} min:",
        f"  export TOKEN={token}",
        f'  curl -s -H "Authorization: Bearer $TOKEN" {url}/cases',
        "Other tokens:",
        f"  {me} token --user olena.ua --role officer --state UA",
        f"  {me} token --user audit.pl --role auditor --states PL",
    ]
    if supervisor.demo:
        lines.append(
            "Demo users: officers anna.pl, olena.ua, ion.md, andrei.ro, hans.de; supervisors "
            "piotr.pl, taras.ua, maria.md, elena.ro, greta.de; auditors audit.<state>"
        )
    return lines


def federated_ready_lines(supervisor: Supervisor) -> list[str]:
    """Where each node runs, and a token for each, which only that node accepts."""
    home = _shown(supervisor.settings.home)
    lines = ["", f"Readmit is running as {len(supervisor.nodes)} federated nodes. Ctrl-C stops "
             f"everything; data stays in {home}"]  # fmt: skip
    for node in supervisor.nodes:
        url = node.api_url
        pages = f"   web pages {url}{WEB}" if node.web_pages else ""
        lines.append(f"  {node.label} node   {url}{pages}")
        temporal = node.temporal_address
        if node.dev is not None and node.dev.ui_url:
            temporal += f" (UI {node.dev.ui_url})"
        lines.append(
            f"            Temporal {temporal}   database {database_name(node.owner_dsn)}   "
            f"keys {_shown(node_home(supervisor.settings.home, node.label))}"
        )
    me = sys.argv[0] if Path(sys.argv[0]).name == "readmit" else "readmit"
    ttl = supervisor.settings.token_ttl_minutes
    lines += ["", f"Development tokens (valid {ttl} min), each accepted by its own node only:"]
    for node in supervisor.nodes:
        user = _demo_officer(node.label) if supervisor.demo else None
        user_id = user.user_id if user else f"officer.{node.label.lower()}"
        secret = jwt_secret(node.settings)
        assert secret is not None  # the node's key set has one
        token = issue_dev_token(
            secret, user=user_id, role="officer", state=node.label, ttl_minutes=ttl
        )
        lines.append(f"  {node.label}  export TOKEN_{node.label}={token}   ({user_id}, officer)")
    first = supervisor.nodes[-1]
    lines.append(
        f"Other tokens: {me} token --node {first.label} --user <id> --role <role> "
        f"--state {first.label}"
    )
    return lines


def _demo_officer(state: str) -> Officer | None:
    """The demo directory's officer of `state`, if it has one."""
    return next((o for o in demo_officers(state) if o.role == "officer"), None)


def redact(dsn: str) -> str:
    """The DSN without its password."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _shown(path: Path) -> str:
    """`path` relative to the working directory when inside it (shorter lines)."""
    resolved = path.expanduser().resolve()
    with contextlib.suppress(ValueError):
        return "./" + str(resolved.relative_to(Path.cwd()))
    return str(resolved)


def _workers_failure(runner: asyncio.Task[None]) -> str:
    """Why the workers' task ended (it only ends on its own when a part of it failed)."""
    if runner.cancelled():
        return "cancelled"
    return _first(runner.exception() or "stopped")


def _first(error: BaseException | str) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
