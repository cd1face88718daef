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

import asyncpg
import pytest
from pydantic import ValidationError

from adapters.audit.bundle import signing_key_from
from adapters.audit.checkpoint import read_checkpoint, take_checkpoint
from adapters.audit.checkpoint_sinks import CheckpointPublisher, CheckpointSinkError
from adapters.settings import Settings
from adapters.webhooks import url_problem

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
    with pytest.raises(ValueError, match="is refused: plain http goes only to a loopback"):
        CheckpointPublisher(KEY, webhook_url="http://10.0.0.7/in")
    with pytest.raises(ValueError, match="needs a directory or a webhook URL"):
        CheckpointPublisher(KEY)
