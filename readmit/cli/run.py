"""`readmit run`: the whole system on one machine, in one supervising process.

It starts, in order: PostgreSQL (READMIT_MIGRATION_DATABASE_URL or DATABASE_URL, else an
embedded server under `home`), the migrations as that DSN's role (the owner), which also let the
runtime role log in, the agreement catalogue check, Temporal (READMIT_TEMPORAL_ADDRESS, else the
dev server of `readmit.embedded_temporal`), the demo officers and registry (as the owner),
workers for the chosen states with the outbox dispatcher and the projector, and the API, both
connected as the runtime role (`runtime_dsn`). A Ctrl-C (or SIGTERM) stops them in the reverse
order and keeps every byte of data under `home` for the next start; a second Ctrl-C stops at
once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
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
from adapters.db.pool import connect, create_pool
from adapters.db.roles import RoleError, dsn_as
from adapters.directory import DirectoryError, import_directory, load_directory
from adapters.keys import jwt_secret, master_keyring
from adapters.logs import configure_logging
from adapters.registry import RegistryImportError, import_registry_csv
from adapters.settings import Settings, get_settings
from adapters.temporal.binaries import BinaryNotFound
from adapters.temporal.client import connect_client
from adapters.temporal.runtime import exit_now, install_runtime
from api.app import create_app
from api.auth import issue_dev_token
from readmit.cli.common import EXIT_BAD_INPUT, EXIT_OK, fail
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
            "--state", help="run workers for this state (repeatable; default: the demo set)"
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="load the demo officers and registry")
    ] = True,
    headless: Annotated[
        bool, typer.Option("--headless", help="start the Temporal dev server without its web UI")
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
    states = checked_states(state or DEFAULT_STATES)
    configure_logging(settings.log_level if "log_level" in settings.model_fields_set else "WARNING")
    try:
        api_socket = bind(settings.api_host, settings.api_port)
    except (PortBusy, StartupError) as error:
        fail(str(error))
    dev: DevServer | None = None
    if settings.temporal_address is None:
        try:
            dev = DevServer.for_home(
                settings.home,
                settings,
                headless=headless,
                namespace=settings.temporal_namespace,
            )
            dev.launch()  # first, while this process has no other thread
        except (PortBusy, BinaryNotFound) as error:
            fail(str(error))
        except OSError as error:
            fail(f"cannot start the Temporal dev server in {settings.home}: {error}")
    install_runtime()
    supervisor = Supervisor(settings, states, demo=demo, dev=dev, api_socket=api_socket)
    exit_now(aio.run(supervisor.run()))


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
class Supervisor:
    settings: Settings
    states: list[str]
    demo: bool
    dev: DevServer | None
    api_socket: socket.socket
    console: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    pg: EmbeddedPostgres | None = None
    workers: asyncio.Task[None] | None = None
    owner_dsn: str = ""  # migrations and demo data
    dsn: str = ""  # the workers and the API, as the runtime role
    temporal_address: str = ""
    web_pages: bool = False
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
                    asyncio.create_task(self._watch_dev_server()),
                    asyncio.create_task(self._watch_workers()),
                ]
                await self.stop.wait()
                for watch in watches:
                    watch.cancel()
            self._stopping = True
            self.say("stopping (Ctrl-C again to stop at once)…")
        self.say("✓ stopped; data kept in " + _shown(self.settings.home))
        return self.code

    # --- starting ------------------------------------------------------------------------------

    async def _start(self, parts: contextlib.AsyncExitStack) -> None:
        if self.dev is not None:
            parts.push_async_callback(
                self._stopping_part, "the Temporal dev server", self._stop_dev_server
            )
        self.owner_dsn = await self._step("PostgreSQL", self._postgres(parts))
        self.dsn = await self._step("migrations", self._migrate())
        await self._step("agreement catalogue", self._catalogue())
        client = await self._step("Temporal", self._temporal())
        if self.demo:
            await self._step("demo data", self._demo_data())
        await self._step("workers", self._workers(parts, client))
        await self._step("API", self._api(parts, client))

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

    def done(self, line: str) -> None:
        self._last = f"[green]✓[/green] {line}"

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

    async def _migrate(self) -> str:
        """Migrate as the owner, letting the runtime role log in; its DSN, once it connects."""
        role = self.settings.runtime_role(login=True)
        try:
            outcomes = await migrate_dsn(self.owner_dsn, runtime=role)
            dsn = runtime_dsn(self.settings, self.owner_dsn)
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
        self.done(f"migrations ({state}); processes connect as {role.name}")
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

    async def _temporal(self) -> Client:
        if self.dev is not None:
            try:
                await self.dev.wait_ready(self.settings.temporal_namespace)
            except DevServerError as error:
                raise StartupError(str(error)) from None
            self.temporal_address = self.dev.address
            ui = f" (UI {self.dev.ui_url})" if self.dev.ui_url else " (headless)"
            reused = ", already running" if self.dev.reused else ""
            self.done(f"Temporal dev server at {self.dev.address}{ui}{reused}")
        else:
            assert self.settings.temporal_address is not None
            self.temporal_address = self.settings.temporal_address
            self.done(
                f"Temporal at {self.temporal_address} "
                f"(namespace {self.settings.temporal_namespace})"
            )
        try:
            return await connect_client(self.settings, self.temporal_address)
        except RuntimeError as error:
            raise StartupError(f"cannot connect to Temporal: {_first(error)}") from None

    async def _demo_data(self) -> None:
        demo = files("readmit.demo")
        try:
            with as_file(demo / "officers.toml") as officers_file:
                officers = await asyncio.to_thread(load_directory, Path(officers_file))
            conn = await connect(self.owner_dsn)
            try:
                await import_directory(conn, officers, master=master_keyring(self.settings))
            finally:
                await conn.close()
            pool = await create_pool(self.owner_dsn, min_size=1, max_size=2)
            try:
                with as_file(demo / "registry.csv") as registry_file:
                    report = await import_registry_csv(pool, Path(registry_file))
            finally:
                await pool.close()
        except (DirectoryError, RegistryImportError) as error:
            raise StartupError(f"demo data: {_first(error)}") from None
        self.done(f"demo data: {len(officers)} officers, {report.persons} persons in registries")

    async def _workers(self, parts: contextlib.AsyncExitStack, client: Client) -> None:
        root = await parts.enter_async_context(
            worker_root(self.settings, self.states, dsn=self.dsn, client=client, migrate=False)
        )
        worker_stop = asyncio.Event()
        runner = self.workers = asyncio.create_task(root.run(worker_stop))

        async def stop_workers() -> None:
            self.say("  stopping workers (in-flight tasks finish)")
            worker_stop.set()
            with contextlib.suppress(Exception):  # a failure was reported when it happened
                await runner

        parts.push_async_callback(self._stopping_part, "the workers", stop_workers)
        while not all(w.is_running for w in root.workers):  # validated and polling
            if runner.done():
                raise StartupError(f"workers: {_workers_failure(runner)}")
            await asyncio.sleep(0.02)
        channels = ", ".join(self.settings.notify_channels)
        self.done(
            f"workers for {', '.join(self.states)} on {cases_queue(self.settings.queue_prefix)} "
            f"and the state queues (notices: {channels})"
        )

    async def _api(self, parts: contextlib.AsyncExitStack, client: Client) -> None:
        app = create_app(self.settings, database_url=self.dsn, client=client)
        self.web_pages = any(str(getattr(r, "path", "")).startswith(WEB) for r in app.routes)
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            proxy_headers=False,  # api.hardening applies READMIT_TRUSTED_PROXIES instead
            timeout_graceful_shutdown=API_GRACE_SECONDS,
            timeout_keep_alive=self.settings.api_keep_alive_seconds,
        )
        server = _Server(config)
        serving = asyncio.create_task(_serve(server, self.api_socket))

        async def stop_api() -> None:
            self.say("  stopping the API")
            server.should_exit = True
            await serving

        parts.push_async_callback(self._stopping_part, "the API", stop_api)
        while not server.started:
            if serving.done():
                raise StartupError(
                    "the API did not start (see the lines above; READMIT_LOG_LEVEL=INFO for more)"
                )
            await asyncio.sleep(0.02)
        self.done(f"API on {self.api_url} (docs {self.api_url}/docs)")

    # --- running and stopping --------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        host = self.settings.api_host
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.settings.api_port}"

    def _print_ready(self, seconds: float) -> None:
        self.say(f"ready in {seconds:.1f} s")
        for line in ready_lines(self):
            self.console.print(line, markup=False)

    async def _watch_dev_server(self) -> None:
        """Stop everything, exit 1, should the dev server die under the workers."""
        process = self.dev.process if self.dev is not None else None
        if process is None:
            return
        await asyncio.to_thread(process.wait)
        if self._stopping:
            return
        self.console.print(
            f"[red]✗[/red] the Temporal dev server exited ({process.returncode}); "
            f"its log: {_shown(self.dev.log_file) if self.dev else ''}"
        )
        self.code = 1
        self.stop.set()

    async def _watch_workers(self) -> None:
        """Stop everything, exit 1, should the workers stop on their own (a worker's fatal
        error, a background loop that raised): a `run` serving nothing must not look alive."""
        if self.workers is None:
            return
        await asyncio.wait({self.workers})
        if self._stopping:
            return
        self.console.print(f"[red]✗[/red] the workers stopped: {_workers_failure(self.workers)}")
        self.code = 1
        self.stop.set()

    def _on_signal(self) -> None:
        if not self.stop.is_set():
            self.stop.set()
            if not self._stopping:
                self.console.print()
            return
        self.console.print("forced stop", markup=False)
        if self.dev is not None:
            self.dev.kill()
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

    async def _stop_dev_server(self) -> None:
        dev = self.dev
        if dev is not None and dev.process is not None:
            self.say("  stopping the Temporal dev server")
            await asyncio.to_thread(dev.stop)

    def say(self, line: str) -> None:
        self.console.print(line)


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
    s = supervisor.settings
    url = supervisor.api_url
    dev = supervisor.dev
    lines = ["", "Readmit is running. Ctrl-C stops everything; data stays in " + _shown(s.home)]
    lines.append(f"  API          {url}   OpenAPI {url}/docs   readiness {url}/ready")
    secret = jwt_secret(s)
    if supervisor.web_pages:
        hint = " (sign in as one of the demo users)" if secret and supervisor.demo else ""
        lines.append(f"  web pages    {url}{WEB}{hint}")
    temporal = supervisor.temporal_address
    if dev is not None and dev.ui_url:
        temporal += f"   UI {dev.ui_url}"
    lines.append(f"  Temporal     {temporal}   namespace {s.temporal_namespace}")
    lines.append(
        f"  PostgreSQL   {redact(supervisor.dsn)}   (migrations: {redact(supervisor.owner_dsn)})"
    )
    lines.append(f"  workers      {', '.join(supervisor.states)}")
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
