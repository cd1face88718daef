"""A TCP proxy in front of PostgreSQL that a test switches off and on: a database outage without
touching the machine's PostgreSQL.

`refuse()` closes the listening socket (new connections get ECONNREFUSED, as from a stopped
server) and resets every open connection on both sides (RST, as after a crash or a network
cut: the client's next read fails at once, PostgreSQL ends the backend). `accept()` listens
again on the same port. `through(dsn)` points a DSN at the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_CHUNK = 64 * 1024


class PgProxy:
    def __init__(self, upstream_host: str, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = 0
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.Task[None]] = set()
        self.writers: set[asyncio.StreamWriter] = set()
        self.refused = 0  # connections reset by `refuse()`

    @classmethod
    def before(cls, dsn: str) -> PgProxy:
        """A proxy for the server a DSN names: over TCP, or over a Unix socket when the DSN says
        `?host=/a/directory` (as the embedded PostgreSQL's does)."""
        parts = urlsplit(dsn)
        socket_dir = dict(parse_qsl(parts.query)).get("host", "")
        port = parts.port or int(dict(parse_qsl(parts.query)).get("port", 5432))
        if socket_dir.startswith("/"):
            return cls(f"{socket_dir}/.s.PGSQL.{port}", 0)
        return cls(parts.hostname or "127.0.0.1", port)

    def through(self, dsn: str) -> str:
        """`dsn` with the proxy's address instead of the server's (always TCP)."""
        parts = urlsplit(dsn)
        user = parts.netloc.rpartition("@")[0]
        netloc = f"{user}@{self.host}:{self.port}" if user else f"{self.host}:{self.port}"
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in ("host", "port")])
        return urlunsplit(parts._replace(netloc=netloc, query=query))

    async def start(self) -> None:
        await self.accept()

    async def accept(self) -> None:
        """Listen (again, on the same port once it is known)."""
        if self.server is not None:
            return
        self.server = await asyncio.start_server(
            self._link, self.host, self.port, reuse_address=True
        )
        self.port = self.server.sockets[0].getsockname()[1]

    async def refuse(self) -> None:
        """Stop listening and reset every open connection."""
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            _reset(writer)
            self.refused += 1
        self.writers.clear()
        for task in list(self.links):
            task.cancel()
        await asyncio.gather(*self.links, return_exceptions=True)

    @contextlib.asynccontextmanager
    async def down(self, seconds: float) -> AsyncIterator[None]:
        """PostgreSQL unreachable for the block and at least `seconds`."""
        await self.refuse()
        waited = asyncio.create_task(asyncio.sleep(seconds))
        try:
            yield
            await waited
        finally:
            waited.cancel()
            await self.accept()

    async def close(self) -> None:
        await self.refuse()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.links.add(task)
        self.writers.add(writer)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            if self.upstream[0].startswith("/"):
                opened = asyncio.open_unix_connection(self.upstream[0])
            else:
                opened = asyncio.open_connection(*self.upstream)
            upstream_reader, upstream_writer = await opened
            self.writers.add(upstream_writer)
            await asyncio.gather(_pump(reader, upstream_writer), _pump(upstream_reader, writer))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.links.discard(task)
            for end in (writer, upstream_writer):
                if end is not None and end in self.writers:
                    self.writers.discard(end)
                    end.close()


async def _pump(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    while data := await source.read(_CHUNK):
        target.write(data)
        await target.drain()
    if target.can_write_eof():
        target.write_eof()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN (SO_LINGER with a zero timeout)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
