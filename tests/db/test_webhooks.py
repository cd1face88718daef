"""Webhooks per recipient: their own secrets (issued, wrapped, rotated), where they may go, and
delivery to the address that was checked, against real PostgreSQL and HTTP(S) receivers on
127.0.0.1. No test here sends anything to another address."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from test_dispatch import (
    MASTER,
    MASTER_KEY,
    HttpPeer,
    add_officer,
    add_row,
    dispatcher,
    row,
    settings,
)
from typer.testing import CliRunner, Result

from adapters.directory import (
    NoWebhook,
    import_directory,
    issue_webhook_secret,
    parse_toml,
    rewrap_webhook_secrets,
)
from adapters.outbox import WebhookSender
from adapters.settings import get_settings
from adapters.temporal.codec import Keyring
from adapters.webhooks import Resolver
from readmit.cli.main import app

HOOKS = "hooks.readmit.test"  # resolves nowhere: only the tests' own resolver knows it


@pytest.fixture
async def http_peer() -> AsyncIterator[HttpPeer]:
    peer = HttpPeer()
    server = await asyncio.start_server(peer.handle, "127.0.0.1", 0)
    peer.port = server.sockets[0].getsockname()[1]
    yield peer
    server.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 2)


def resolver_to(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        assert host == HOOKS, f"asked to resolve {host}"
        return addresses

    return resolve


# --- secrets ---------------------------------------------------------------------------------


async def test_import_issues_each_webhook_its_own_secret_stored_only_wrapped(
    pool: asyncpg.Pool,
) -> None:
    text = """
[[officer]]
user_id = "piotr.pl"
state = "PL"
role = "supervisor"
display_name = "Piotr"
webhook_url = "https://hooks.border.example/readmit"

[[officer]]
user_id = "anna.pl"
state = "PL"
role = "officer"
display_name = "Anna"
webhook_url = "https://hooks.border.example/anna"
"""
    async with pool.acquire() as conn:
        first = await import_directory(conn, parse_toml(text), master=MASTER)
        again = await import_directory(conn, parse_toml(text), master=MASTER)
        moved = await import_directory(
            conn, parse_toml(text.replace("/anna", "/anna2")), master=MASTER
        )
        removed = await import_directory(
            conn,
            parse_toml(text.replace('webhook_url = "https://hooks.border.example/anna"', "")),
            master=MASTER,
        )

    issued = {s.user_id: s.secret.get_secret_value() for s in first.secrets}
    assert sorted(issued) == ["anna.pl", "piotr.pl"]
    assert issued["anna.pl"] != issued["piotr.pl"]
    assert again.secrets == ()  # shown once: an unchanged URL keeps its secret
    assert [s.user_id for s in moved.secrets] == ["anna.pl"]  # a new URL, a new secret
    assert moved.secrets[0].secret.get_secret_value() != issued["anna.pl"]
    assert removed.secrets == ()
    rows = {r["user_id"]: r for r in await pool.fetch("SELECT * FROM officers")}
    assert rows["anna.pl"]["webhook_secret"] is None  # no URL, no secret
    piotr = rows["piotr.pl"]
    raw = base64.b64decode(issued["piotr.pl"].removeprefix("whsec_"))
    assert len(raw) == 32 and piotr["webhook_secret_key_id"] == "master-1"
    stored = json.dumps({k: repr(v) for k, v in dict(piotr).items()})
    assert raw not in bytes(piotr["webhook_secret"]) and issued["piotr.pl"] not in stored


async def test_a_webhook_from_before_secrets_waits_for_one_then_goes(
    pool: asyncpg.Pool, http_peer: HttpPeer
) -> None:
    """Migration 0014 gives existing webhook URLs no secret: their rows are retried, naming the
    command that issues one, and go once the directory import has issued it."""
    await pool.execute(
        "INSERT INTO officers (user_id, state, role, display_name, webhook_url)"
        " VALUES ('piotr.pl', 'PL', 'officer', 'Piotr', $1)",
        http_peer.url,
    )
    key = await add_row(pool, "piotr.pl", "webhook")
    async with dispatcher(pool, settings()) as d:
        assert (await d.run_once()).retrying == 1
        waiting = await row(pool, key)
        assert http_peer.requests == []
        assert waiting["status"] == "pending"
        assert "readmit directory webhook-secret piotr.pl" in waiting["last_error"]

        entry = f"""[[officer]]
user_id = "piotr.pl"
state = "PL"
role = "officer"
display_name = "Piotr"
webhook_url = "{http_peer.url}"
"""
        async with pool.acquire() as conn:
            summary = await import_directory(conn, parse_toml(entry), master=MASTER)
        assert summary.unchanged == ("piotr.pl",) and len(summary.secrets) == 1
        await pool.execute("UPDATE notifications SET next_try_at = now()")
        assert (await d.run_once()).sent == 1

    [request] = http_peer.requests
    Webhook(summary.secrets[0].secret.get_secret_value()).verify(request.body, request.headers)


async def test_during_a_rotation_both_secrets_verify_then_only_the_new_one(
    pool: asyncpg.Pool, http_peer: HttpPeer
) -> None:
    old = await add_officer(pool, "piotr.pl", webhook_url=http_peer.url)
    assert old is not None
    async with pool.acquire() as conn:
        rotated = await issue_webhook_secret(
            conn, "piotr.pl", MASTER, keep_previous=timedelta(hours=1)
        )
    new = rotated.secret.get_secret_value()
    assert rotated.previous_until is not None
    assert rotated.previous_until - datetime.now(UTC) > timedelta(minutes=59)
    await add_row(pool, "piotr.pl", "webhook", n=1)
    async with dispatcher(pool, settings()) as d:
        await d.run_once()
        async with pool.acquire() as conn:  # leaked: the old one stops at once
            leaked = await issue_webhook_secret(conn, "piotr.pl", MASTER)
        await add_row(pool, "piotr.pl", "webhook", n=2)
        await d.run_once()

    during, after = http_peer.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)
    Webhook(leaked.secret.get_secret_value()).verify(after.body, after.headers)
    for stale in (old, new):
        with pytest.raises(WebhookVerificationError):
            Webhook(stale).verify(after.body, after.headers)


async def test_a_wrapped_secret_moved_to_another_officer_does_not_unwrap(
    pool: asyncpg.Pool, http_peer: HttpPeer
) -> None:
    await add_officer(pool, "piotr.pl", webhook_url=http_peer.url)
    await add_officer(pool, "anna.pl", webhook_url=http_peer.url)
    await pool.execute(
        "UPDATE officers AS a SET webhook_secret = p.webhook_secret FROM officers AS p"
        " WHERE a.user_id = 'anna.pl' AND p.user_id = 'piotr.pl'"
    )
    key = await add_row(pool, "anna.pl", "webhook")
    async with dispatcher(pool, settings()) as d:
        await d.run_once()
    assert http_peer.requests == []
    assert "does not unwrap" in (await row(pool, key))["last_error"]


async def test_secrets_move_under_the_new_master_key(pool: asyncpg.Pool) -> None:
    await add_officer(pool, "piotr.pl", webhook_url="https://hooks.border.example/p")
    async with pool.acquire() as conn:
        await issue_webhook_secret(conn, "piotr.pl", MASTER, keep_previous=timedelta(hours=1))
        with pytest.raises(NoWebhook):
            await issue_webhook_secret(conn, "nobody.pl", MASTER)
        both = Keyring.from_encoded(
            {"master-1": MASTER_KEY, "master-2": Keyring.new_key()}, "master-2", what="master"
        )
        assert await rewrap_webhook_secrets(conn, both) == 1
        assert await rewrap_webhook_secrets(conn, both) == 0
    stored = await pool.fetchrow("SELECT * FROM officers WHERE user_id = 'piotr.pl'")
    assert stored is not None
    assert (stored["webhook_secret_key_id"], stored["webhook_previous_key_id"]) == (
        "master-2",
        "master-2",
    )


# --- where webhooks go -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "addresses", "reason"),
    [
        ("http://127.0.0.1:9/x", (), "plain http is refused in production"),
        ("https://127.0.0.1:9/x", (), "not a public address"),
        ("https://localhost:9/x", (), "loopback name"),
        (f"https://{HOOKS}:9/x", ("127.0.0.1",), "resolves to 127.0.0.1"),
        (f"https://{HOOKS}:9/x", ("10.1.2.3",), "resolves to 10.1.2.3"),
        (f"https://{HOOKS}:9/x", ("::ffff:192.168.1.1",), "resolves to 192.168.1.1"),
        (f"https://{HOOKS}:9/x", ("169.254.169.254",), "resolves to 169.254.169.254"),
    ],
)
async def test_production_refuses_loopback_and_private_targets_at_send_time(
    pool: asyncpg.Pool, url: str, addresses: tuple[str, ...], reason: str
) -> None:
    await add_officer(pool, "piotr.pl", webhook_url=url)
    key = await add_row(pool, "piotr.pl", "webhook")
    config = settings()
    sender = WebhookSender(config, MASTER, production=True, resolver=resolver_to(*addresses))
    async with dispatcher(pool, config, sender) as d:
        report = await d.run_once()
    refused = await row(pool, key)
    assert (report.failed, refused["status"], refused["attempts"]) == (1, "failed", 1)
    assert reason in refused["last_error"]


async def test_development_sends_plain_http_only_to_loopback(pool: asyncpg.Pool) -> None:
    await add_officer(pool, "piotr.pl", webhook_url=f"http://{HOOKS}:9/x")
    key = await add_row(pool, "piotr.pl", "webhook")
    config = settings()
    sender = WebhookSender(config, MASTER, production=False, resolver=resolver_to("127.0.0.1"))
    async with dispatcher(pool, config, sender) as d:
        await d.run_once()
    assert "plain http goes only to a loopback address" in (await row(pool, key))["last_error"]


# --- https to the checked address ------------------------------------------------------------


def tls_files(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for `name` signed by it: (ca.pem, cert.pem, key.pem)."""
    now = datetime.now(UTC)

    def certificate(
        subject: str,
        key: ec.EllipticCurvePrivateKey,
        issuer: str,
        signer: ec.EllipticCurvePrivateKey,
        ca: bool,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Readmit test CA", ca_key, "Readmit test CA", ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(name, key, "Readmit test CA", ca_key, ca=False)
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@contextlib.asynccontextmanager
async def https_peer(tmp_path: Path, name: str) -> AsyncIterator[tuple[HttpPeer, ssl.SSLContext]]:
    """An HTTPS receiver on 127.0.0.1 with a certificate for `name`, and a client context that
    trusts its CA (and nothing else)."""
    ca, cert, key = tls_files(tmp_path, name)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    peer = HttpPeer()
    server = await asyncio.start_server(peer.handle, "127.0.0.1", 0, ssl=server_tls)
    peer.port = server.sockets[0].getsockname()[1]
    try:
        yield peer, ssl.create_default_context(cafile=str(ca))
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2)


async def test_https_goes_to_the_checked_address_under_the_urls_own_name(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """The name resolves only through the sender's resolver, so the request reached the address
    that was checked, not one the HTTP client looked up again; TLS still checked the name."""
    async with https_peer(tmp_path, HOOKS) as (peer, client_tls):
        url = f"https://{HOOKS}:{peer.port}/hooks"
        secret = await add_officer(pool, "piotr.pl", webhook_url=url)
        key = await add_row(pool, "piotr.pl", "webhook")
        config = settings()
        sender = WebhookSender(
            config, MASTER, production=False, tls=client_tls, resolver=resolver_to("127.0.0.1")
        )
        async with dispatcher(pool, config, sender) as d:
            assert (await d.run_once()).sent == 1

    [request] = peer.requests
    assert request.headers["host"] == f"{HOOKS}:{peer.port}"
    assert secret is not None
    Webhook(secret).verify(request.body, request.headers)
    assert (await row(pool, key))["status"] == "sent"


async def test_https_to_a_receiver_with_another_names_certificate_fails(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    async with https_peer(tmp_path, "someone-else.test") as (peer, client_tls):
        await add_officer(pool, "piotr.pl", webhook_url=f"https://{HOOKS}:{peer.port}/hooks")
        key = await add_row(pool, "piotr.pl", "webhook")
        config = settings()
        sender = WebhookSender(
            config, MASTER, production=False, tls=client_tls, resolver=resolver_to("127.0.0.1")
        )
        async with dispatcher(pool, config, sender) as d:
            report = await d.run_once()

    assert (report.sent, report.retrying, peer.requests) == (0, 1, [])
    assert "certificate" in (await row(pool, key))["last_error"].lower()


# --- the command -----------------------------------------------------------------------------


@pytest.fixture
def master_env(
    monkeypatch: pytest.MonkeyPatch, master_keys: dict[str, str], tmp_path: Path
) -> Iterator[None]:
    monkeypatch.setenv("READMIT_MASTER_KEYS", json.dumps(master_keys))
    monkeypatch.setenv("READMIT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("master_env")
async def test_cli_issues_a_new_secret_once_and_refuses_an_officer_without_webhook(
    pool: asyncpg.Pool, database_url: str, db_schema: str
) -> None:
    await add_officer(pool, "piotr.pl", webhook_url="https://hooks.border.example/p")
    await add_officer(pool, "anna.pl")
    where = ["--database-url", database_url, "--schema", db_schema]

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, ["directory", "webhook-secret", *args, *where])

    issued = await asyncio.to_thread(run, "piotr.pl", "--keep-previous-hours", "2")
    refused = await asyncio.to_thread(run, "anna.pl")

    assert issued.exit_code == 0, issued.output
    [line] = issued.stdout.splitlines()
    assert line.startswith("webhook secret of piotr.pl: whsec_")
    assert "previous secret also signs until" in issued.stderr
    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        "readmit: anna.pl is not in the directory with a webhook URL"
    ]
