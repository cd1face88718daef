"""Sends the outbox's pending e-mail and webhook rows: at least once, and by one worker at a time.

Per batch, with no transaction open while talking to the network:
1. claim: one statement picks due `pending` e-mail/webhook rows `FOR UPDATE SKIP LOCKED` and
   pushes their `next_try_at` forward by a lease, so other dispatchers skip them once it commits;
2. send each row (bounded concurrency, each send under a timeout shorter than the lease);
3. mark each row on its own right after its send: `sent`, a retry at `now() + backoff`, or
   `failed` once `max_attempts` is reached (or at once when retrying cannot help).
A crash between 2 and 3 leaves the row `pending`: when its lease runs out it is sent again. So
delivery is at least once, and every message carries the row key (`webhook-id` and
`Idempotency-Key` on webhooks, a `Message-ID` derived from it on e-mail) so that receivers can
drop repeats.

Webhooks are signed in the Standard Webhooks format with the recipient's own secret, and go only
where `adapters/webhooks.py` allows, checked at every send.

Inbox rows are never touched: they are `delivered` when written. Logs carry ids, never payloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import hashlib
import json
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Protocol, Self

import aiosmtplib
import asyncpg
import httpx
import structlog
from cryptography.exceptions import InvalidTag
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from standardwebhooks import Webhook

from adapters import metrics
from adapters.i18n import DEFAULT_LANGUAGE, language, notice_subject, translations
from adapters.temporal.codec import Keyring, KeyringError
from adapters.webhooks import (
    Resolver,
    TargetRefused,
    WrappedSecret,
    checked_addresses,
    post_pinned,
    system_resolver,
    unwrap_secret,
    webhook_client,
)

log = structlog.get_logger(__name__)

ERROR_MAX_CHARS = 500


class DispatchSettings(BaseModel):
    """What the dispatcher and its senders need; built from `Settings` by the composition root."""

    model_config = ConfigDict(frozen=True)

    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = Field(default=True, description="require STARTTLS on a plain port")
    smtp_tls: bool = Field(default=False, description="implicit TLS (port 465)")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "readmit@localhost"
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_seconds: float = Field(default=30.0, ge=0)
    backoff_max_seconds: float = Field(default=3600.0, ge=0)
    lease_seconds: float = Field(default=120.0, gt=0)
    send_timeout_seconds: float = Field(default=20.0, gt=0)
    concurrency: int = Field(default=8, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.smtp_tls and self.smtp_starttls:
            raise ValueError("smtp_tls and smtp_starttls exclude each other")
        if self.send_timeout_seconds >= self.lease_seconds:
            raise ValueError("send_timeout_seconds must be shorter than lease_seconds")
        return self


class DispatchReport(BaseModel):
    """What one batch did: rows claimed, and how each ended."""

    model_config = ConfigDict(frozen=True)

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0  # claimed but not started before the lease ran short; due again at once
    unmarked: int = 0  # sent or tried but not recorded (database error); retried after the lease


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed outbox row with the address the directory gives for its channel now."""

    id: int
    key: str
    case_id: str
    recipient: str
    channel: str
    kind: str
    subject: str
    payload: dict[str, Any]
    attempts: int
    lease: datetime
    address: str | None
    # the recipient's webhook secrets that sign now: the current one, then during a rotation
    # the previous one
    secrets: tuple[WrappedSecret, ...] = ()
    # the recipient's language tag in the directory: an e-mail's words are in it
    locale: str = DEFAULT_LANGUAGE


class SendError(Exception):
    """The receiver did not take the message; a `permanent` one is not retried."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, item: Outgoing) -> None: ...


# --- e-mail ----------------------------------------------------------------------------------


def message_id_for(key: str, mail_from: str) -> str:
    """A stable Message-ID for an outbox row: the same row always gets the same id."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = mail_from.rpartition("@")[2].strip("<> ") or "readmit.invalid"
    return f"<{digest}@{domain}>"


# Headers are not folded below RFC 5322's 998 characters: Python 3.11 folds a translated subject
# between two encoded words and so loses the space there ("terminu „odpowiedź”" arrived as
# "terminu„odpowiedź”"). The message is flattened with it here, as aiosmtplib would refold it;
# 7-bit, so a translated body goes as quoted-printable or base64 to servers without 8BITMIME.
_UNFOLDED = email.policy.SMTP.clone(max_line_length=998, cte_type="7bit")


class EmailSender:
    """SMTP through aiosmtplib, one connection per message."""

    def __init__(self, settings: DispatchSettings) -> None:
        self.settings = settings

    def build(self, item: Outgoing) -> EmailMessage:
        """The message for a row: the subject and the notice's fields, no personal data."""
        if not item.address:
            raise SendError("the directory has no e-mail address for the recipient", permanent=True)
        message = EmailMessage(policy=_UNFOLDED)
        message["From"] = self.settings.mail_from
        message["To"] = item.address
        message["Subject"] = notice_subject(item.subject, item.case_id, item.locale)
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = message_id_for(item.key, self.settings.mail_from)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        message.set_content(_email_body(item))
        return message

    async def send(self, item: Outgoing) -> None:
        message = self.build(item)
        password = self.settings.smtp_password
        await aiosmtplib.send(
            message.as_bytes(policy=_UNFOLDED),
            sender=parseaddr(self.settings.mail_from)[1],
            recipients=[str(message["To"])],
            hostname=self.settings.smtp_host,
            port=self.settings.smtp_port,
            username=self.settings.smtp_username,
            password=password.get_secret_value() if password else None,
            use_tls=self.settings.smtp_tls,
            start_tls=False if self.settings.smtp_tls else self.settings.smtp_starttls,
            timeout=self.settings.send_timeout_seconds,
        )


def _email_body(item: Outgoing) -> str:
    """The plain text: the subject, the notice's fields (their names in the recipient's language,
    their values as codes) and where to look; extracted into the pages' catalogue."""
    _ = translations(language(item.locale)).gettext
    fields = [(_("Case"), item.case_id), (_("Kind"), item.kind)]
    for label, field in ((_("Limit"), "limit"), (_("Level"), "level"), (_("Due"), "due")):
        value = item.payload.get(field)
        if value is not None:
            fields.append((label, str(value)))
    width = max(len(label) for label, _value in fields) + 1
    lines = [notice_subject(item.subject, item.case_id, item.locale), ""]
    lines += [f"{label + ':':<{width}} {value}" for label, value in fields]
    notification = _("Notification")
    lines += ["", _("Open the case in Readmit for the details."), f"{notification}: {item.key}"]
    return "\n".join(lines) + "\n"


# --- webhooks --------------------------------------------------------------------------------


def webhook_body(item: Outgoing, at: datetime) -> bytes:
    """The JSON body: `{"type", "timestamp", "data"}` as Standard Webhooks suggests, the data
    being the notice (ids, kind, limit, due; no personal data). Always in English, whatever the
    recipient's language: its readers are programs, which match on `kind` and the codes, and a
    subject that changed with a directory's `locale` would break them."""
    envelope = {
        "type": f"notice.{item.kind}",
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "data": item.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookSender:
    """JSON POST to the recipient's webhook URL, signed with the recipient's own secret.

    Headers per Standard Webhooks: `webhook-id` (the row key, the same on every retry),
    `webhook-timestamp` (inside the signature, so a receiver refuses stale replays) and
    `webhook-signature` (`v1,<base64 HMAC-SHA256>`, two of them during a secret's rotation).
    The target is checked and resolved at every send, and the request goes to a checked address
    (see `adapters/webhooks.py`); one connection per request, no proxy from the environment.
    """

    def __init__(
        self,
        settings: DispatchSettings,
        master: Keyring,
        *,
        production: bool,
        tls: ssl.SSLContext | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.settings = settings
        self.master = master
        self.production = production
        self.resolver = resolver
        # No keep-alive: a pooled connection is keyed by address, and must not carry a request
        # for another name than the one its TLS certificate was checked against.
        self.client = webhook_client(settings.send_timeout_seconds, tls)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def signature(self, item: Outgoing, at: datetime, body: bytes) -> str:
        """The `webhook-signature` header: one `v1,...` per secret that signs now."""
        if not item.secrets:
            raise SendError(
                "the recipient has no webhook secret yet: issue one with "
                f"`readmit directory webhook-secret {item.recipient}`"
            )
        signatures = []
        for secret in item.secrets:
            try:
                raw = unwrap_secret(self.master, item.recipient, secret)
            except KeyringError as error:
                raise SendError(f"cannot unwrap the webhook secret: {error}") from None
            except InvalidTag:
                raise SendError("the webhook secret does not unwrap: altered or moved") from None
            signatures.append(Webhook(raw).sign(item.key, at, body))
        return " ".join(signatures)

    async def send(self, item: Outgoing) -> None:
        if not item.address:
            raise SendError("the directory has no webhook URL for the recipient", permanent=True)
        try:
            addresses = await checked_addresses(
                item.address, production=self.production, resolver=self.resolver
            )
        except TargetRefused as error:
            raise SendError(f"webhook target refused: {error}", permanent=True) from None
        except OSError as error:
            raise SendError(f"cannot resolve the webhook host: {_describe(error)}") from None
        at = datetime.now(UTC).replace(microsecond=0)
        body = webhook_body(item, at)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": item.key,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": self.signature(item, at, body),
            "Idempotency-Key": item.key,
            "User-Agent": "readmit-dispatcher",
        }
        response = await self._post(item.address, addresses, body, headers)
        if not 200 <= response.status_code < 300:
            raise SendError(f"HTTP {response.status_code}")

    async def _post(
        self, url: str, addresses: list[str], body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """POST to the first of the checked addresses that takes a connection
        (`adapters.webhooks.post_pinned`, as audit checkpoints are sent)."""
        try:
            return await post_pinned(self.client, url, addresses, body, headers)
        except httpx.InvalidURL as error:
            raise SendError(f"invalid webhook URL: {error}", permanent=True) from error
        except httpx.HTTPError as error:
            raise SendError(_describe(error)) from error


# --- the dispatcher --------------------------------------------------------------------------

_CLAIM = """
WITH due AS (
    SELECT id FROM notifications
    WHERE status = 'pending' AND channel IN ('email', 'webhook') AND next_try_at <= now()
    ORDER BY next_try_at, id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE notifications AS n SET next_try_at = now() + make_interval(secs => $2::float8)
    FROM due WHERE n.id = due.id
    RETURNING n.id, n.key, n.case_id, n.recipient, n.channel, n.kind, n.subject, n.payload,
              n.attempts, n.next_try_at
)
SELECT c.*, CASE c.channel WHEN 'email' THEN o.email ELSE o.webhook_url END AS address,
       o.locale, o.webhook_secret_key_id, o.webhook_secret,
       CASE WHEN o.webhook_previous_until > now() THEN o.webhook_previous_key_id END
           AS webhook_previous_key_id,
       CASE WHEN o.webhook_previous_until > now() THEN o.webhook_previous_secret END
           AS webhook_previous_secret
FROM claimed AS c LEFT JOIN officers AS o ON o.user_id = c.recipient AND o.active
ORDER BY c.next_try_at, c.id
"""
_MARK_SENT = """
UPDATE notifications
SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL
WHERE id = $1 AND status = 'pending'
"""
# Only the holder of the current lease records a failure: a dispatcher whose lease ran out while
# another one took the row over must not count the attempt twice.
_MARK_FAILED = """
UPDATE notifications SET
    attempts = attempts + 1,
    last_error = $3,
    status = CASE WHEN $4::boolean OR attempts + 1 >= $5::integer THEN 'failed' ELSE 'pending' END,
    next_try_at = now() + make_interval(
        secs => LEAST($6::float8 * power(2, LEAST(attempts, 40)), $7::float8))
WHERE id = $1 AND status = 'pending' AND next_try_at = $2
RETURNING status, next_try_at
"""
_RELEASE = """
UPDATE notifications SET next_try_at = now()
WHERE id = ANY($1::bigint[]) AND status = 'pending' AND next_try_at = $2
"""


class Dispatcher:
    """Claims due outbox rows and hands them to the sender for their channel."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        email: EmailSender | Sender,
        webhook: WebhookSender | Sender,
        settings: DispatchSettings | None = None,
    ) -> None:
        self.pool = pool
        self.senders: dict[str, Sender] = {"email": email, "webhook": webhook}
        self.settings = settings or DispatchSettings()

    async def run_once(self, limit: int = 100) -> DispatchReport:
        """Claim up to `limit` due rows, send them and record each outcome."""
        loop = asyncio.get_running_loop()
        # Sends start only while a whole send still fits in the lease; later rows go back.
        # Counted from before the claim, so the local budget never outlasts the database's lease.
        last_start = loop.time() + self.settings.lease_seconds - self.settings.send_timeout_seconds
        rows = await self.pool.fetch(_CLAIM, limit, self.settings.lease_seconds)
        if not rows:
            return DispatchReport()
        items = [_outgoing(row) for row in rows]
        gate = asyncio.Semaphore(self.settings.concurrency)
        outcomes: list[str] = []
        late: list[Outgoing] = []

        async def one(item: Outgoing) -> None:
            async with gate:
                if loop.time() >= last_start:
                    late.append(item)
                    return
                outcome = await self._deliver(item)
                metrics.record_notification(item.channel, outcome)
                outcomes.append(outcome)

        async with asyncio.TaskGroup() as group:
            for item in items:
                group.create_task(one(item))
        if late:
            await self.pool.execute(_RELEASE, [item.id for item in late], late[0].lease)
        return DispatchReport(
            claimed=len(items),
            sent=outcomes.count("sent"),
            retrying=outcomes.count("pending"),
            failed=outcomes.count("failed"),
            released=len(late),
            unmarked=outcomes.count("unmarked"),
        )

    async def run_forever(
        self, stop: asyncio.Event, interval: float = 1.0, limit: int = 100
    ) -> None:
        """Dispatch until `stop` is set: at once again while batches come back full."""
        while not stop.is_set():
            full = False
            try:
                report = await self.run_once(limit)
                full = report.claimed >= limit
            except Exception as error:  # the database may be away for a while: keep going
                log.warning("dispatch batch failed", error_type=type(error).__name__)
            if not full:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)

    async def _deliver(self, item: Outgoing) -> str:
        """Send one row and record the outcome; returns the row's status, or `unmarked`."""
        context = {
            "notification_id": item.id,
            "case_id": item.case_id,
            "channel": item.channel,
            "attempt": item.attempts + 1,
        }
        try:
            async with asyncio.timeout(self.settings.send_timeout_seconds):
                await self.senders[item.channel].send(item)
        except Exception as error:
            reason, permanent = _reason(error, self.settings.send_timeout_seconds)
            return await self._record_failure(item, reason, permanent, type(error), context)
        try:
            await self.pool.execute(_MARK_SENT, item.id)
        except Exception as error:
            log.error("sent but not recorded", error_type=type(error).__name__, **context)
            return "unmarked"
        log.info("notification sent", **context)
        return "sent"

    async def _record_failure(
        self,
        item: Outgoing,
        reason: str,
        permanent: bool,
        error_type: type[BaseException],
        context: dict[str, Any],
    ) -> str:
        settings = self.settings
        try:
            row = await self.pool.fetchrow(
                _MARK_FAILED,
                item.id,
                item.lease,
                reason[:ERROR_MAX_CHARS],
                permanent,
                settings.max_attempts,
                settings.backoff_base_seconds,
                settings.backoff_max_seconds,
            )
        except Exception as error:
            log.error("send failed, not recorded", error_type=type(error).__name__, **context)
            return "unmarked"
        if row is None:  # the lease was lost to another dispatcher, which now owns the row
            log.warning("send failed after the lease ran out", **context)
            return "unmarked"
        status = str(row["status"])
        log.warning(
            "notification send failed",
            error_type=error_type.__name__,
            status=status,
            next_try_at=row["next_try_at"].isoformat() if status == "pending" else None,
            **context,
        )
        return status


def _outgoing(row: asyncpg.Record) -> Outgoing:
    pairs = (
        (row["webhook_secret_key_id"], row["webhook_secret"]),
        (row["webhook_previous_key_id"], row["webhook_previous_secret"]),
    )
    secrets = tuple(
        WrappedSecret(key_id, bytes(wrapped))
        for key_id, wrapped in pairs
        if wrapped is not None and row["channel"] == "webhook"
    )
    return Outgoing(
        id=row["id"],
        key=row["key"],
        case_id=row["case_id"],
        recipient=row["recipient"],
        channel=row["channel"],
        kind=row["kind"],
        subject=row["subject"],
        payload=row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"]),
        attempts=row["attempts"],
        lease=row["next_try_at"],
        address=row["address"],
        secrets=secrets,
        locale=row["locale"] or DEFAULT_LANGUAGE,
    )


def _reason(error: BaseException, timeout: float) -> tuple[str, bool]:
    """A one-line `last_error` and whether retrying is pointless."""
    if isinstance(error, SendError):
        return str(error), error.permanent
    if isinstance(error, TimeoutError):
        return f"timed out after {timeout:g} s", False
    return _describe(error), False


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
