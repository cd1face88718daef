"""Where checkpoints go: a new file in a directory, and a webhook POST whose Standard Webhooks
`v1a` signature a receiver checks with the public key alone; https only (http to loopback)."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import asyncpg
import pytest
from pydantic import ValidationError

from adapters.audit.bundle import signing_key_from
from adapters.audit.checkpoint import read_checkpoint, take_checkpoint
from adapters.audit.checkpoint_sinks import CheckpointPublisher, CheckpointSinkError
from adapters.production import WORKER, problems, production_by_default
from adapters.settings import ConfigurationError, Settings
from adapters.webhooks import Resolver, url_problem
from workers.root import checkpoint_publisher

KEY = signing_key_from(base64.b64encode(os.urandom(32)).decode())


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    status: ClassVar[int] = 204

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("TestReceiver", (Receiver,), {"received": [], "status": 204})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/checkpoints", handler
    server.shutdown()
    server.server_close()


async def test_a_checkpoint_goes_to_the_directory_and_the_signed_webhook(
    pool: asyncpg.Pool, tmp_path: Path, receiver: tuple[str, type[Receiver]]
) -> None:
    url, handler = receiver
    signed = await take_checkpoint(pool, KEY)
    publisher = CheckpointPublisher(KEY, tmp_path, url)
    delivered = await publisher.deliver(signed)
    name = signed.checkpoint.file_name()
    assert delivered == (f"directory:{tmp_path / name}", "webhook:127.0.0.1")
    assert (tmp_path / name).read_bytes() == signed.data
    # delivered again (an activity retried): the file is there already, the webhook gets it again
    await publisher.deliver(signed)
    assert await asyncio.to_thread(os.listdir, tmp_path) == [name]

    [(headers, body), _] = handler.received
    assert body == signed.data and headers["content-type"] == "application/json"
    scheme, signature = headers["webhook-signature"].split(",", 1)
    assert scheme == "v1a"
    signed_content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    KEY.public_key().verify(base64.b64decode(signature), signed_content)
    assert read_checkpoint(body, KEY.public_key()) == signed.checkpoint


async def test_a_sink_that_fails_fails_the_delivery(
    pool: asyncpg.Pool, tmp_path: Path, receiver: tuple[str, type[Receiver]]
) -> None:
    url, handler = receiver
    signed = await take_checkpoint(pool, KEY)
    handler.status = 500
    with pytest.raises(CheckpointSinkError, match=r"webhook at 127\.0\.0\.1 answered 500"):
        await CheckpointPublisher(KEY, webhook_url=url).deliver(signed)
    with pytest.raises(CheckpointSinkError, match="does not exist"):
        await CheckpointPublisher(KEY, tmp_path / "unmounted").deliver(signed)
    closed = "http://127.0.0.1:9/checkpoints"  # the discard port: nothing listens
    with pytest.raises(CheckpointSinkError, match=r"webhook at 127\.0\.0\.1 failed: ConnectError"):
        await CheckpointPublisher(KEY, webhook_url=closed).deliver(signed)


def test_checkpoints_go_where_webhooks_may_go() -> None:
    """One rule for every outgoing URL (`adapters.webhooks.url_problem`): https, plain http only
    to loopback in development, no loopback or private target in production."""
    assert url_problem("https://anchor.example.org/in", production=True) is None
    assert url_problem("http://127.0.0.1:8080/in", production=False) is None
    assert url_problem("http://[::1]/in", production=False) is None
    assert url_problem("http://anchor.example.org/in", production=False) is not None
    assert url_problem("https://10.0.0.7/in", production=True) is not None
    with pytest.raises(ValidationError, match="READMIT_AUDIT_CHECKPOINT_WEBHOOK_URL is refused"):
        Settings(env="production", audit_checkpoint_webhook_url="https://10.0.0.7/in")
    with pytest.raises(ValidationError, match="READMIT_AUDIT_CHECKPOINT_WEBHOOK_URL is refused"):
        Settings(audit_checkpoint_webhook_url="http://10.0.0.7/in")
    with pytest.raises(ConfigurationError, match="is refused: plain http goes only to a loopback"):
        CheckpointPublisher(KEY, webhook_url="http://10.0.0.7/in")
    with pytest.raises(ValueError, match="needs a directory or a webhook URL"):
        CheckpointPublisher(KEY)


def resolving_to(*addresses: str) -> Resolver:
    """A resolver that answers `addresses` for any name (what a hostile DNS could answer)."""

    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def test_a_checkpoint_webhook_is_judged_by_the_address_its_name_resolves_to(
    pool: asyncpg.Pool,
) -> None:
    """A public-looking name that resolves to a private or loopback address is refused in
    production, at the send, before any connection (as officers' webhooks are)."""
    signed = await take_checkpoint(pool, KEY)
    for address in ("10.0.0.7", "127.0.0.1", "169.254.169.254", "::ffff:192.168.1.1"):
        publisher = CheckpointPublisher(
            KEY,
            webhook_url="https://anchor.example.org/in",
            production=True,
            resolver=resolving_to("203.0.113.9", address),
        )
        with pytest.raises(CheckpointSinkError, match="refused in production"):
            await publisher.deliver(signed)


async def test_a_checkpoint_goes_to_the_checked_address_with_no_proxy_from_the_environment(
    pool: asyncpg.Pool, receiver: tuple[str, type[Receiver]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The POST goes to the address that was checked (the name only in the Host header), so a
    name that resolves elsewhere a moment later cannot redirect it; a proxy named by the
    environment is not used."""
    url, handler = receiver
    port = urlsplit(url).port
    for variable in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    signed = await take_checkpoint(pool, KEY)
    named = f"http://anchor.localhost:{port}/checkpoints"
    publisher = CheckpointPublisher(KEY, webhook_url=named, resolver=resolving_to("127.0.0.1"))
    assert await publisher.deliver(signed) == ("webhook:anchor.localhost",)
    [(headers, body)] = handler.received
    assert headers["host"] == f"anchor.localhost:{port}" and body == signed.data


def test_production_by_default_holds_the_checkpoint_url_to_production_s_rules() -> None:
    """`readmit worker` without READMIT_ENV is production, made so after the settings were
    validated: the checkpoint URL is still judged as production judges it, and a bad one is a
    line of the production check (exit 2), not a crash once the worker runs."""
    loaded = Settings(
        _env_file=None,
        audit_checkpoint_webhook_url="http://127.0.0.1:8080/in",
        audit_signing_key=base64.b64encode(os.urandom(32)).decode(),
    )
    settings = production_by_default(loaded)
    assert settings.production
    [problem] = [p for p in problems(settings, WORKER) if "CHECKPOINT" in p]
    assert problem.startswith("READMIT_AUDIT_CHECKPOINT_WEBHOOK_URL (plain http is refused")
    with pytest.raises(ConfigurationError, match="READMIT_AUDIT_CHECKPOINT_WEBHOOK_URL"):
        checkpoint_publisher(settings)
