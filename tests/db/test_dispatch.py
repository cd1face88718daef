"""The dispatcher against real PostgreSQL and real SMTP and HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import asyncpg
import pytest
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import Envelope, Session
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from adapters.directory import issue_webhook_secret
from adapters.outbox import (
    Dispatcher,
    DispatchSettings,
    EmailSender,
    WebhookSender,
    message_id_for,
)
from adapters.temporal.codec import Keyring
from domain.notices import Notice
from domain.values import EscalationLevel

MASTER_KEY = Keyring.new_key()
MASTER = Keyring.from_encoded({"master-1": MASTER_KEY}, "master-1", what="master")
CASE_ID = "PL-UA-2027-000123"
MAIL_FROM = "readmit@authority.example"


# --- peers -----------------------------------------------------------------------------------


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpPeer:
    """A tiny HTTP/1.1 server: records every request, answers `status` after `delay`."""

    status: int = 200
    delay: float = 0.0
    hold: asyncio.Event | None = None  # when set, answers wait for it
    requests: list[Request] = field(default_factory=list)
    received: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            _method, path, _version = (await reader.readline()).decode().split()
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Request(path, headers, body))
            self.received.set()
            if self.hold is not None:
                await self.hold.wait()
            await asyncio.sleep(self.delay)
            head = f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\nConnection: close\r\n"
            writer.write(head.encode() + b"\r\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/readmit"


class MailHandler:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.original_content or b"", policy=email.policy.default)
            for e in self.envelopes
        ]


@pytest.fixture
async def http_peer() -> AsyncIterator[HttpPeer]:
    peer = HttpPeer()
    server = await asyncio.start_server(peer.handle, "127.0.0.1", 0)
    peer.port = server.sockets[0].getsockname()[1]
    yield peer
    if peer.hold is not None:
        peer.hold.set()
    server.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 2)


@pytest.fixture
async def smtp_peer() -> AsyncIterator[tuple[MailHandler, int]]:
    handler = MailHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTPProtocol(handler, hostname="mail.test"), "127.0.0.1", 0
    )
    yield handler, server.sockets[0].getsockname()[1]
    server.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 2)


def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings(smtp_port: int = 1, **changes: Any) -> DispatchSettings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_starttls": False,
        "mail_from": MAIL_FROM,
        "lease_seconds": 10.0,
        "send_timeout_seconds": 3.0,
    }
    return DispatchSettings.model_validate(values | changes)


@contextlib.asynccontextmanager
async def dispatcher(
    pool: asyncpg.Pool, config: DispatchSettings, webhook: WebhookSender | None = None
) -> AsyncIterator[Dispatcher]:
    async with webhook or WebhookSender(config, MASTER, production=False) as sender:
        yield Dispatcher(pool, EmailSender(config), sender, config)


# --- rows ------------------------------------------------------------------------------------


async def add_officer(
    pool: asyncpg.Pool,
    user_id: str,
    *,
    email: str | None = None,
    webhook_url: str | None = None,
    active: bool = True,
    locale: str = "en",
) -> str | None:
    """An officer as the directory holds them; returns the webhook secret issued, if any."""
    await pool.execute(
        "INSERT INTO officers (user_id, state, role, display_name, email, webhook_url, active,"
        " locale) VALUES ($1, 'PL', 'officer', $1, $2, $3, $4, $5)",
        user_id,
        email,
        webhook_url,
        active,
        locale,
    )
    if webhook_url is None:
        return None
    async with pool.acquire() as conn:
        issued = await issue_webhook_secret(conn, user_id, MASTER)
    return issued.secret.get_secret_value()


async def add_row(
    pool: asyncpg.Pool,
    recipient: str,
    channel: str,
    *,
    status: str = "pending",
    n: int = 0,
    subject: str = f"{CASE_ID}: half of the reply limit has elapsed",
) -> str:
    """An outbox row as `record_notices` writes it; returns its key."""
    notice = Notice(
        key=f"{CASE_ID}:reply:reminder_half:{n}",
        case_id=CASE_ID,
        state="PL",
        role="officer",
        kind="reminder_half",
        subject=subject,
        event_id=uuid.uuid4(),
        limit="reply",
        level=EscalationLevel.REMINDER_HALF,
        due=datetime(2027, 3, 1, 23, 59, tzinfo=UTC),
    )
    key = f"{notice.key}:{recipient}:{channel}"
    await pool.execute(
        "INSERT INTO notifications (key, notice_key, case_id, recipient, state, role, channel,"
        " kind, subject, payload, status) VALUES ($1, $2, $3, $4, 'PL', 'officer', $5, $6, $7,"
        " $8, $9)",
        key,
        notice.key,
        CASE_ID,
        recipient,
        channel,
        notice.kind,
        notice.subject,
        notice.model_dump(mode="json"),
        status,
    )
    return key


async def row(pool: asyncpg.Pool, key: str) -> asyncpg.Record:
    found = await pool.fetchrow(
        "SELECT *, extract(epoch FROM next_try_at - now())::float8 AS wait FROM notifications"
        " WHERE key = $1",
        key,
    )
    assert found is not None
    return found


async def make_due(pool: asyncpg.Pool) -> None:
    """Let the backoff pass without waiting for it."""
    await pool.execute("UPDATE notifications SET next_try_at = now() WHERE status = 'pending'")


# --- e-mail and webhooks ---------------------------------------------------------------------


async def test_email_reaches_the_smtp_server_with_subject_and_message_id(
    pool: asyncpg.Pool, smtp_peer: tuple[MailHandler, int]
) -> None:
    handler, port = smtp_peer
    await add_officer(pool, "anna.pl", email="anna@border.example")
    key = await add_row(pool, "anna.pl", "email")

    async with dispatcher(pool, settings(port)) as d:
        report = await d.run_once()

    assert (report.claimed, report.sent) == (1, 1)
    [message] = handler.messages()
    assert handler.envelopes[0].rcpt_tos == ["anna@border.example"]
    assert message["Subject"] == f"{CASE_ID}: half of the reply limit has elapsed"
    assert message["Message-ID"].strip() == message_id_for(key, MAIL_FROM)  # folding may indent
    assert message_id_for(key, MAIL_FROM).endswith("@authority.example>")
    body = message.get_content()
    assert CASE_ID in body and "reply" in body and "reminder_half" in body and "2027-03-01" in body
    sent = await row(pool, key)
    assert (sent["status"], sent["attempts"], sent["last_error"]) == ("sent", 1, None)
    assert sent["sent_at"] is not None


async def test_email_speaks_the_recipients_language_and_the_webhook_stays_english(
    pool: asyncpg.Pool, smtp_peer: tuple[MailHandler, int], http_peer: HttpPeer
) -> None:
    handler, port = smtp_peer
    await add_officer(pool, "olena.ua", email="olena@dpsu.example", locale="uk-UA")
    await add_officer(pool, "piotr.pl", email="piotr@sg.example", locale="pl")
    await add_officer(pool, "hook.ua", webhook_url=http_peer.url, locale="uk")
    escalation = f"{CASE_ID}: half of the reply limit has elapsed; it ends 2027-03-01 23:59 UTC"
    await add_row(pool, "olena.ua", "email", subject=f"{CASE_ID}: New readmission application")
    await add_row(pool, "piotr.pl", "email", subject=escalation, n=1)
    await add_row(pool, "hook.ua", "webhook", subject=escalation, n=2)

    async with dispatcher(pool, settings(port)) as d:
        report = await d.run_once()

    assert (report.claimed, report.sent) == (3, 3)
    sent = {m["To"]: m for m in handler.messages()}
    ukrainian, polish = sent["olena@dpsu.example"], sent["piotr@sg.example"]
    assert ukrainian["Subject"] == f"{CASE_ID}: Нове клопотання про реадмісію"
    assert "Справа:" in ukrainian.get_content() and "Readmit" in ukrainian.get_content()
    assert polish["Subject"] == (
        f"{CASE_ID}: upłynęła połowa terminu „odpowiedź”; termin upływa 2027-03-01 23:59 UTC"
    )
    body = polish.get_content()
    assert body.startswith(polish["Subject"]) and "Sprawa:" in body and "reminder_half" in body
    [hook] = http_peer.requests
    assert b"half of the reply limit has elapsed; it ends" in hook.body  # the English subject
    assert "upłynęła".encode() not in hook.body and "термін".encode() not in hook.body


async def test_webhook_verifies_with_standard_webhooks_and_the_recipients_own_secret(
    pool: asyncpg.Pool, http_peer: HttpPeer
) -> None:
    secret = await add_officer(pool, "piotr.pl", webhook_url=http_peer.url)
    other = await add_officer(pool, "anna.pl", webhook_url=http_peer.url + "/anna")
    assert secret and other and secret != other
    key = await add_row(pool, "piotr.pl", "webhook")

    async with dispatcher(pool, settings()) as d:
        report = await d.run_once()

    assert report.sent == 1
    [request] = http_peer.requests
    assert request.path == "/hooks/readmit"
    # what a receiver does with the off-the-shelf package: raises unless the signature is good
    envelope = Webhook(secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == request.headers["idempotency-key"] == key
    assert envelope["type"] == "notice.reminder_half"
    assert envelope["data"]["case_id"] == CASE_ID and envelope["data"]["limit"] == "reply"
    with pytest.raises(WebhookVerificationError):  # another recipient's secret does not sign it
        Webhook(other).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):  # nor does a changed body verify
        Webhook(secret).verify(request.body.replace(b"reply", b"xeply"), request.headers)
    assert (await row(pool, key))["status"] == "sent"


async def test_http_500_is_retried_with_backoff_then_failed(
    pool: asyncpg.Pool, http_peer: HttpPeer
) -> None:
    http_peer.status = 500
    await add_officer(pool, "piotr.pl", webhook_url=http_peer.url)
    key = await add_row(pool, "piotr.pl", "webhook")
    config = settings(max_attempts=3, backoff_base_seconds=30, backoff_max_seconds=50)

    async with dispatcher(pool, config) as d:
        first = await d.run_once()
        after_first = await row(pool, key)
        assert (await d.run_once()).claimed == 0  # not due yet
        await make_due(pool)
        await d.run_once()
        after_second = await row(pool, key)
        await make_due(pool)
        last = await d.run_once()
    final = await row(pool, key)

    assert (first.retrying, last.failed) == (1, 1)
    assert (after_first["status"], after_first["attempts"]) == ("pending", 1)
    assert after_first["last_error"] == "HTTP 500"
    assert 25 < after_first["wait"] <= 30  # 30 s × 2^0
    assert (after_second["attempts"], 45 < after_second["wait"] <= 50) == (2, True)  # capped
    assert (final["status"], final["attempts"], final["sent_at"]) == ("failed", 3, None)
    assert len(http_peer.requests) == 3


async def test_refused_connection_is_a_retryable_failure(pool: asyncpg.Pool) -> None:
    await add_officer(pool, "piotr.pl", webhook_url=f"http://127.0.0.1:{refused_port()}/x")
    await add_officer(pool, "anna.pl", email="anna@border.example")
    webhook = await add_row(pool, "piotr.pl", "webhook")
    mail = await add_row(pool, "anna.pl", "email")

    async with dispatcher(pool, settings(refused_port())) as d:
        report = await d.run_once()

    assert (report.claimed, report.retrying) == (2, 2)
    for key in (webhook, mail):
        failed = await row(pool, key)
        assert (failed["status"], failed["attempts"]) == ("pending", 1)
        assert failed["last_error"] and failed["wait"] > 25


async def test_recipient_gone_from_the_directory_fails_without_sending(
    pool: asyncpg.Pool, http_peer: HttpPeer
) -> None:
    await add_officer(pool, "piotr.pl", webhook_url=http_peer.url, active=False)
    await add_officer(pool, "anna.pl")  # e-mail address since removed
    webhook = await add_row(pool, "piotr.pl", "webhook")
    mail = await add_row(pool, "anna.pl", "email")

    async with dispatcher(pool, settings()) as d:
        report = await d.run_once()

    assert report.failed == 2
    assert http_peer.requests == []
    for key in (webhook, mail):
        assert ((await row(pool, key))["status"], (await row(pool, key))["attempts"]) == (
            "failed",
            1,
        )


# --- claiming --------------------------------------------------------------------------------


async def test_inbox_rows_are_never_dispatched(pool: asyncpg.Pool, http_peer: HttpPeer) -> None:
    await add_officer(pool, "piotr.pl", webhook_url=http_peer.url)
    delivered = await add_row(pool, "piotr.pl", "inbox", status="delivered", n=1)
    stray = await add_row(pool, "piotr.pl", "inbox", status="pending", n=2)  # never written so
    group = await add_row(pool, "@PL:officer", "inbox", status="delivered", n=3)
    before = {k: dict(await row(pool, k)) for k in (delivered, stray, group)}

    async with dispatcher(pool, settings()) as d:
        report = await d.run_once()

    assert report.claimed == 0 and http_peer.requests == []
    for key, old in before.items():
        new = dict(await row(pool, key))
        assert {k: new[k] for k in new if k != "wait"} == {k: old[k] for k in old if k != "wait"}


async def test_two_dispatchers_never_send_a_row_twice(
    pool: asyncpg.Pool, http_peer: HttpPeer
) -> None:
    http_peer.delay = 0.02  # long enough for one's claim to overlap the other's sending
    await add_officer(pool, "piotr.pl", webhook_url=http_peer.url)
    keys = {await add_row(pool, "piotr.pl", "webhook", n=n) for n in range(40)}
    config = settings(concurrency=2)

    async def drain(d: Dispatcher) -> int:
        batches = 0
        while (await d.run_once(limit=8)).claimed:
            batches += 1
        return batches

    async with dispatcher(pool, config) as one, dispatcher(pool, config) as two:
        batches = await asyncio.gather(drain(one), drain(two))

    assert all(batches), "both dispatchers must have taken part"
    sent = [r.headers["idempotency-key"] for r in http_peer.requests]
    assert sorted(sent) == sorted(keys)  # each row exactly once
    statuses = await pool.fetch("SELECT status, attempts FROM notifications")
    assert {(r["status"], r["attempts"]) for r in statuses} == {("sent", 1)}


async def test_a_crash_between_send_and_mark_resends_after_the_lease(
    pool: asyncpg.Pool, http_peer: HttpPeer
) -> None:
    http_peer.hold = asyncio.Event()
    await add_officer(pool, "piotr.pl", webhook_url=http_peer.url)
    key = await add_row(pool, "piotr.pl", "webhook")
    config = settings(lease_seconds=1.5, send_timeout_seconds=0.5)

    async with dispatcher(pool, config) as crashing, dispatcher(pool, config) as survivor:
        task = asyncio.create_task(crashing.run_once())
        await asyncio.wait_for(http_peer.received.wait(), 5)
        task.cancel()  # the worker dies with the request delivered but not recorded
        with contextlib.suppress(asyncio.CancelledError):
            await task
        leased = await row(pool, key)
        assert (leased["status"], leased["attempts"], leased["wait"] > 0) == ("pending", 0, True)
        assert (await survivor.run_once()).claimed == 0  # leased: not taken over early
        http_peer.hold.set()
        await asyncio.sleep(max(leased["wait"], 0) + 0.05)
        assert (await survivor.run_once()).sent == 1

    assert [r.headers["idempotency-key"] for r in http_peer.requests] == [key, key]
    assert (await row(pool, key))["status"] == "sent"


async def test_rows_that_cannot_start_within_the_lease_go_back_at_once(
    pool: asyncpg.Pool, http_peer: HttpPeer
) -> None:
    http_peer.delay = 0.7  # the first send outlasts the time left to start one
    await add_officer(pool, "piotr.pl", webhook_url=http_peer.url)
    for n in range(4):
        await add_row(pool, "piotr.pl", "webhook", n=n)
    config = settings(lease_seconds=2.0, send_timeout_seconds=1.5, concurrency=1)

    async with dispatcher(pool, config) as d:
        report = await d.run_once()

    assert (report.claimed, report.sent, report.released) == (4, 1, 3)
    waits = await pool.fetch(
        "SELECT extract(epoch FROM next_try_at - now())::float8 AS wait FROM notifications"
        " WHERE status = 'pending'"
    )
    assert len(waits) == 3 and all(r["wait"] <= 0 for r in waits)


async def test_run_forever_sends_new_rows_until_stopped(
    pool: asyncpg.Pool, http_peer: HttpPeer
) -> None:
    await add_officer(pool, "piotr.pl", webhook_url=http_peer.url)
    stop = asyncio.Event()
    async with dispatcher(pool, settings()) as d:
        loop_task = asyncio.create_task(d.run_forever(stop, interval=0.05))
        key = await add_row(pool, "piotr.pl", "webhook")
        await asyncio.wait_for(http_peer.received.wait(), 5)
        for _ in range(100):
            if (await row(pool, key))["status"] == "sent":
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(loop_task, 5)
    assert (await row(pool, key))["status"] == "sent"


async def test_rows_written_by_record_notices_are_dispatched(
    pool: asyncpg.Pool, http_peer: HttpPeer, smtp_peer: tuple[MailHandler, int]
) -> None:
    """`record_notices`, the call the case workflow's commit makes with its events, writes rows
    the dispatcher sends."""
    from adapters.notices import record_notices

    handler, port = smtp_peer
    await pool.execute(
        "INSERT INTO officers (user_id, state, role, display_name, email, webhook_url)"
        " VALUES ('piotr.pl', 'PL', 'supervisor', 'Piotr', 'piotr@border.example', $1)",
        http_peer.url,
    )
    async with pool.acquire() as conn:
        await issue_webhook_secret(conn, "piotr.pl", MASTER)
    notice = Notice(
        key=f"{CASE_ID}:reply:escalation_near:2027-03-01T23:59:00+00:00",
        case_id=CASE_ID,
        state="PL",
        role="supervisor",
        kind="escalation_near",
        subject=f"{CASE_ID}: escalation: the reply limit ends soon",
        event_id=uuid.uuid4(),
    )
    call = record_notices((notice,), ("inbox", "email", "webhook"))
    await pool.fetchval(f"SELECT {call.text(1)}", *call.args)

    async with dispatcher(pool, settings(port)) as d:
        report = await d.run_once()

    assert (report.claimed, report.sent) == (2, 2)  # e-mail and webhook; the inbox row is not ours
    assert len(handler.envelopes) == 1 and len(http_peer.requests) == 1
    channels = await pool.fetch("SELECT channel, status FROM notifications ORDER BY channel")
    assert [tuple(r) for r in channels] == [
        ("email", "sent"),
        ("inbox", "delivered"),
        ("webhook", "sent"),
    ]
