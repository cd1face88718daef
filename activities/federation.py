"""Delivering a shared case's message to the other node, as an activity (docs/federation.md).

`deliver_message` builds the message the first time it runs: the command (and, on a submission,
the case's opening) taken out of this node's seal and encrypted to the peer's current key, the
whole signed with this node's key with this node's chain head inside; it is stored before it
leaves, so every attempt sends the same bytes and this node can always show what it sent. It then
posts it to the peer, verifies the signed receipt (the peer's registered key, this message's id
and content hash) and keeps a final one. A peer that cannot be reached, answers without a signed
receipt, or refuses for now (`retryable`) raises: `MessageDelivery` tries again later.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters import metrics
from adapters.attachments.crossing import for_peer
from adapters.attachments.store import AttachmentStore, BlobKey
from adapters.federation.envelope import (
    ChainHead,
    EnvelopeRefused,
    MessageActor,
    MessageBody,
    ReceiptBody,
    content_hash,
    only_key,
    sign_message,
    unverified_header,
    verify_receipt,
)
from adapters.federation.hpke import encrypt_to, message_aad
from adapters.federation.identity import NodeIdentity
from adapters.federation.inbound import JOSE, MESSAGES_PATH
from adapters.federation.peers import PeerDirectory, PeerKeyRefused
from adapters.federation.store import ExchangeStore, StoredMessage, stored_receipt
from adapters.logs import bind_case
from adapters.protection.vault import PersonalDataVault
from domain.commands import AddAttachment
from workflows.contracts import (
    DELIVER_MESSAGE,
    DROP_REFUSED_ATTACHMENT,
    Delivered,
    DeliverInput,
    DropAttachmentInput,
    DropAttachmentResult,
)

log = structlog.get_logger(__name__)


class DeliveryActivities:
    """What a node needs to send: its identity, its peers, its record of the exchange, the
    case keys (to take the command out of this node's seal) and an HTTP client."""

    def __init__(
        self,
        identity: NodeIdentity,
        peers: PeerDirectory,
        exchange: ExchangeStore,
        vault: PersonalDataVault,
        http: httpx.AsyncClient,
        max_bytes: int,
        attachments: AttachmentStore | None = None,
    ) -> None:
        self.identity = identity
        self.peers = peers
        self.exchange = exchange
        self.vault = vault
        self.http = http
        self.max_bytes = max_bytes
        self.attachments = attachments  # a file added to a shared case travels with its command

    @activity.defn(name=DELIVER_MESSAGE)
    async def deliver_message(self, request: DeliverInput) -> Delivered:
        message = request.message
        bind_case(request.case_id, activity.info().workflow_id or "", request.sender)
        kept = await self.exchange.receipt(message.message_id, "out")
        stored = await self.exchange.message(message.message_id, "out")
        if stored is None:
            stored = await self.exchange.add_message(await self._build(request))
        if kept is not None:  # receipted before this attempt's worker died
            return _delivered(await self._verified(kept.token, request, stored, kept.received_at))
        with _peer_refusals(request.recipient):
            url = await self.peers.url(request.recipient, datetime.now(UTC))
        url = url.rstrip("/") + MESSAGES_PATH
        try:
            status, media, answer = await self._post(url, stored.token)
        except httpx.HTTPError as error:
            metrics.record_federation_failure(request.recipient, "unreachable")
            log.warning("message not delivered, retrying", peer=request.recipient, error=str(error))
            raise ApplicationError(
                f"{request.recipient} unreachable: {type(error).__name__}"
            ) from None
        if status == 413:  # over the peer's body cap: no attempt can deliver it
            raise ApplicationError(
                f"the message is larger than {request.recipient} takes",
                type="MessageNotBuildable",
                non_retryable=True,
            )
        if media != JOSE or answer is None:
            metrics.record_federation_failure(request.recipient, "no_receipt")
            raise ApplicationError(
                f"{request.recipient} answered {status} without a signed receipt"
            )
        receipt = await self._verified(answer, request, stored)
        if receipt.refusal is not None and receipt.refusal.retryable:
            metrics.record_federation_failure(request.recipient, "refused_for_now")
            raise ApplicationError(
                f"{request.recipient} refused for now: {receipt.refusal.code}",
                type="RefusedForNow",
            )
        final = await self.exchange.add_receipt(
            stored_receipt(receipt, "out", request.case_id, request.recipient, answer)
        )
        metrics.observe_federation_delivery(
            request.recipient, (datetime.now(UTC) - stored.sent_at).total_seconds()
        )
        log.info(
            "message receipted",
            peer=request.recipient,
            seq=message.seq,
            outcome=final.outcome,
            code=final.code,
        )
        return _delivered(receipt)

    @activity.defn(name=DROP_REFUSED_ATTACHMENT)
    async def drop_refused_attachment(self, request: DropAttachmentInput) -> DropAttachmentResult:
        """Remove the sealed bytes kept for a file whose crossing `AddAttachment` the other
        node refused: the case never records it, so nothing would ever name them. The case
        workflow asks only when no attachment of the case it recorded has the same bytes.
        Idempotent (a retried attempt finds nothing to remove)."""
        bind_case(request.case_id, activity.info().workflow_id or "", self.identity.state)
        if self.attachments is None:
            return DropAttachmentResult(removed=False)
        await self.attachments.delete(BlobKey(request.case_id, request.sha256))
        log.info("refused attachment's bytes removed")
        return DropAttachmentResult(removed=True)

    async def _post(self, url: str, token: str) -> tuple[int, str, str | None]:
        """Post the message; the answer's status, media type and body, which is read only up
        to this node's limit (a peer cannot make it hold more): None beyond it."""
        headers = {"content-type": JOSE}
        async with self.http.stream("POST", url, content=token.encode(), headers=headers) as r:
            media = r.headers.get("content-type", "").split(";")[0]
            body = bytearray()
            async for chunk in r.aiter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    return r.status_code, media, None
            return r.status_code, media, body.decode("ascii", errors="replace")

    async def _build(self, request: DeliverInput) -> StoredMessage:
        """The signed message, its command and opening encrypted to the peer."""
        message = request.message
        sealer = await self.vault.sealer(request.case_id)
        if sealer is None:
            raise ApplicationError("the case has no key here", type="MessageNotBuildable")
        clear: dict[str, Any] = {
            "command": sealer.open_command(message.command).model_dump(mode="json"),
            "opening": (
                sealer.open_command(message.opening).model_dump(mode="json")
                if message.opening is not None
                else None
            ),
        }
        if isinstance(message.command, AddAttachment):
            try:
                assert self.attachments is not None, "the worker root gives the store"
                clear["attachment"] = await for_peer(self.attachments, sealer, message.command)
            except LookupError as missing:
                raise ApplicationError(str(missing), type="MessageNotBuildable") from None
        now = datetime.now(UTC)
        with _peer_refusals(request.recipient):
            kid, public = await self.peers.encryption_key(request.recipient, now)
        aad = message_aad(message.message_id, request.case_id, request.sender, request.recipient)
        payload = encrypt_to(public, kid, json.dumps(clear).encode(), aad)
        head = await self.exchange.chain_head(request.case_id)
        body = MessageBody(
            message_id=message.message_id,
            case_id=request.case_id,
            sender=request.sender,
            recipient=request.recipient,
            seq=message.seq,
            peer_seen=message.peer_seen,
            sent_at=message.sent_at,
            kind=message.kind,
            command_name=message.command.command,
            actor=MessageActor(**message.actor.model_dump()),
            payload=payload,
            head=ChainHead(version=head.version, hash=head.hash) if head else None,
        )
        token = sign_message(body, self.identity.signing_key, self.identity.signing_kid)
        return StoredMessage(
            message_id=message.message_id,
            direction="out",
            case_id=request.case_id,
            peer=request.recipient,
            seq=message.seq,
            kind=message.kind,
            command=message.command.command,
            sent_at=message.sent_at,
            head_version=head.version if head else None,
            head_hash=head.hash if head else None,
            content_hash=content_hash(body),
            token=token,
        )

    async def _verified(
        self,
        token: str,
        request: DeliverInput,
        stored: StoredMessage,
        at: datetime | None = None,
    ) -> ReceiptBody:
        """The receipt's body, signed by the recipient (with a key valid `at`, default now)
        and naming this very message."""
        try:
            kid, _ = unverified_header(token)
            when = at or datetime.now(UTC)
            key = await self.peers.verification_key(request.recipient, kid, when)
            verified = verify_receipt(token, only_key(key), self.max_bytes)
        except (EnvelopeRefused, PeerKeyRefused) as error:
            raise ApplicationError(
                f"the receipt from {request.recipient} does not verify: {error}"
            ) from None
        body: ReceiptBody = verified.body
        if (
            body.message_id != stored.message_id
            or body.content_hash != stored.content_hash
            or body.sender != request.recipient
            or body.recipient != request.sender
        ):
            raise ApplicationError(f"{request.recipient}'s receipt is for another message")
        return body


@contextlib.contextmanager
def _peer_refusals(peer: str) -> Iterator[None]:
    """A peer this node no longer trusts (revoked, or not registered) is sent nothing: the
    message fails at once. Keys rotated out without new ones yet may come back: retried."""
    try:
        yield
    except PeerKeyRefused as refused:
        final = refused.code in ("revoked", "unknown_peer")
        raise ApplicationError(
            f"{peer}: {refused}",
            type="MessageNotBuildable" if final else "PeerKeysPending",
            non_retryable=final,
        ) from None


def _delivered(receipt: ReceiptBody) -> Delivered:
    """What the case takes from a verified receipt. A command counts at the instant its events
    were recorded there (the receipt's instant, or its own sending instant for a reply given in
    time that arrived in the grace after its deadline: `domain.federation.counted_at`)."""
    if receipt.outcome != "refused" and receipt.events:
        counted = receipt.events[0].at
        ids = tuple(e.event_id for e in receipt.events)
        return Delivered(
            message_id=receipt.message_id,
            outcome="applied",
            received_at=counted,
            event_ids=ids,
        )
    refusal = receipt.refusal
    if receipt.outcome != "refused":  # applied, but nothing recorded: never by design
        return Delivered(
            message_id=receipt.message_id, outcome="applied", received_at=receipt.received_at
        )
    return Delivered(
        message_id=receipt.message_id,
        outcome="refused",
        received_at=receipt.received_at,
        code=refusal.code if refusal else "refused",
        detail=refusal.detail if refusal else None,
    )
