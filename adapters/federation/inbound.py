"""Taking a message from a peer node (docs/federation.md): verify, order, decrypt, re-seal,
append, and answer a signed receipt.

Every answer this node can sign is a receipt, refusals included, so the sender holds proof of
what happened to its message: `applied` (with `received_at` from this node's clock, the events
recorded and this node's chain head after them), or `refused` with a code and whether trying
again later can help (`retryable`: the sender's delivery does). Final receipts are kept, and a
message delivered again gets the very receipt it got the first time, so nothing is applied twice.
Only a body that does not even name its sender and recipient gets an unsigned problem instead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import structlog
from pydantic import TypeAdapter, ValidationError

from adapters.agreements.catalogue import Catalogue, NotInCatalogue
from adapters.attachments.crossing import AttachmentRefused, keep_from_peer
from adapters.attachments.named import case_names_file
from adapters.attachments.store import AttachmentStore, BlobKey
from adapters.db.eventstore import EventStore, Recorded
from adapters.federation.envelope import (
    ChainHead,
    EnvelopeRefused,
    MessageBody,
    ReceiptBody,
    ReceiptEvent,
    Refusal,
    b64url_decode,
    only_key,
    peek_sender,
    sign_receipt,
    unverified_header,
    verify_message,
)
from adapters.federation.hpke import decrypt_with, message_aad
from adapters.federation.identity import NodeIdentity
from adapters.federation.peers import PeerDirectory, PeerKeyRefused
from adapters.federation.store import ExchangeStore, StoredMessage, stored_receipt
from adapters.protection.vault import DataErased
from adapters.temporal.cases import CaseGateway, CaseNotFound, CommandRefused
from domain.commands import AddAttachment, Command, OpenCase
from workflows.contracts import Actor, CommandResult, PeerMessage, RecordedEvent
from workflows.exchange import node_actor, snake

log = structlog.get_logger(__name__)

JOSE = "application/jose"  # the media type of a compact JWS (RFC 7515)
MESSAGES_PATH = "/federation/messages"
COMMANDS: TypeAdapter[Command] = TypeAdapter(Command)


class NotAMessage(Exception):
    """A body that names no sender and recipient: answered with a problem, not a receipt."""


@dataclass(frozen=True)
class Answer:
    """A signed receipt to send back (always HTTP 200: the receipt says what happened)."""

    token: str
    outcome: str
    code: str | None = None


def _content_hash(token: str) -> str:
    parts = token.split(".")
    if len(parts) != 3:
        raise NotAMessage("not a compact JWS")
    return hashlib.sha256(b64url_decode(parts[1])).hexdigest()


class Inbound:
    """This node's receiving end."""

    def __init__(
        self,
        identity: NodeIdentity,
        peers: PeerDirectory,
        exchange: ExchangeStore,
        gateway: CaseGateway,
        catalogue: Catalogue,
        max_bytes: int,
        attachments: AttachmentStore | None = None,
    ) -> None:
        self.identity = identity
        self.peers = peers
        self.exchange = exchange
        self.gateway = gateway
        self.catalogue = catalogue
        self.events = EventStore(exchange.pool)
        self.max_bytes = max_bytes
        self.attachments = attachments  # where a file the peer sends is kept, under our key

    async def receive(self, raw: bytes) -> Answer:
        try:
            token = raw.decode("ascii").strip()
            sender, recipient, message_id = peek_sender(token)
            content_hash = _content_hash(token)
        except (UnicodeDecodeError, EnvelopeRefused, ValueError) as error:
            raise NotAMessage(str(error)) from None
        now = datetime.now(UTC)

        def refuse(code: str, detail: str, retryable: bool = False) -> Answer:
            return self._refusal(message_id, content_hash, sender, code, detail, retryable)

        if recipient != self.identity.state:
            return refuse("wrong_recipient", f"this node is {self.identity.state}'s")
        if len(raw) > self.max_bytes:
            return refuse("oversized", f"over {self.max_bytes} bytes")
        kept = await self.exchange.receipt(message_id, "in")
        if kept is not None:
            if kept.content_hash != content_hash:
                return refuse("replayed_id", "another message was received under this id")
            return Answer(kept.token, kept.outcome, kept.code)
        try:
            kid, _ = unverified_header(token)
            key = await self.peers.verification_key(sender, kid, now)
            verified = verify_message(token, only_key(key), self.max_bytes)
        except PeerKeyRefused as refused:
            # a key the peer made and this node has not registered yet: the administrators are
            # exchanging descriptors (`readmit peers rotate`), so the sender tries again later
            return refuse(refused.code, str(refused), refused.code == "unknown_key")
        except EnvelopeRefused as refused:
            # altered on its way, perhaps: the sender's stored bytes may well arrive intact
            return refuse(refused.code, refused.detail, refused.code == "bad_signature")
        body: MessageBody = verified.body
        if body.sender != sender or body.recipient != recipient:
            return refuse("malformed", "the header and body disagree")
        private = self.identity.decryption_key(body.payload.kid, now)
        if private is None:
            return refuse("undecryptable", "encrypted to a key this node does not hold")
        try:
            clear = json.loads(
                decrypt_with(
                    private,
                    body.payload.kid,
                    body.payload,
                    message_aad(body.message_id, body.case_id, body.sender, body.recipient),
                )
            )
            command = COMMANDS.validate_python(clear["command"])
            opening = OpenCase.model_validate(clear["opening"]) if clear.get("opening") else None
        except EnvelopeRefused as refused:
            return refuse(refused.code, refused.detail)
        except (ValueError, KeyError, TypeError, ValidationError):
            return refuse("malformed", "the payload is not a command of this version")
        if command.command != body.command_name:
            return refuse("malformed", "the payload's command differs from the envelope's")
        if opening is not None and (wrong := self._not_ours(body, opening)):
            return refuse("wrong_case", wrong)
        if opening is not None and (differs := self._terms_differ(opening)):
            return refuse("terms_differ", differs)
        await self.exchange.add_message(_stored(body, token, content_hash))
        applied = await self._applied_before(body)
        if applied:  # applied, but its receipt was never kept (this node stopped in between)
            return await self._applied(body, content_hash, _result(body, applied))
        actor = (
            node_actor(body.sender)
            if body.kind == "consequence"
            else Actor(**body.actor.model_dump())
        )
        peer = PeerMessage(
            message_id=body.message_id,
            sender=body.sender,
            seq=body.seq,
            peer_seen=body.peer_seen,
            sent_at=body.sent_at,
            kind=body.kind,
            opening=opening,
        )
        kept_file = False
        if isinstance(command, AddAttachment):
            try:
                kept_file = await self._keep_file(body.case_id, command, clear.get("attachment"))
            except AttachmentRefused as wrong:
                return refuse("malformed", str(wrong))
        try:
            result = await self.gateway.receive(body.case_id, command, actor, peer)
        except CaseNotFound:
            await self._drop_file(body.case_id, command, kept_file)
            unknown = CommandRefused("unknown_case", "the case is not on this node", 404)
            unknown.code = "unknown_case"
            return await self._final_refusal(body, content_hash, unknown)
        except CommandRefused as refused:
            await self._drop_file(body.case_id, command, kept_file)
            log.info("message refused", peer=sender, seq=body.seq, code=refused.code)
            return await self._final_refusal(body, content_hash, refused)
        return await self._applied(body, content_hash, result)

    async def _keep_file(self, case_id: str, command: AddAttachment, encoded: object) -> bool:
        """The file of a peer's `AddAttachment`, sealed with this node's case key and stored
        before the case records the command; True if stored now."""
        if self.attachments is None:
            raise AttachmentRefused("this node keeps no attachments")
        try:
            sealer = await self.gateway.vault.sealer(case_id)
        except DataErased:
            raise AttachmentRefused("the case's personal data was erased here") from None
        if sealer is None:
            raise AttachmentRefused("the case is not on this node")
        return await keep_from_peer(self.attachments, sealer, command, encoded)

    async def _drop_file(self, case_id: str, command: Command, kept: bool) -> None:
        """A refused `AddAttachment`'s file, stored for it a moment ago, goes with it, unless
        the case names the same bytes after all (a local upload of the same file recorded
        meanwhile)."""
        if not (kept and self.attachments is not None and isinstance(command, AddAttachment)):
            return
        if not await case_names_file(self.events, case_id, command.sha256):
            await self.attachments.delete(BlobKey(case_id, command.sha256))

    def _not_ours(self, body: MessageBody, opening: OpenCase) -> str | None:
        """Why an opening is not one the sender may bring here, or None: a case of the sender
        (requesting) to this node (requested), numbered by the sender, the one the message
        names. Checked before the case's workflow is started."""
        terms, me = opening.terms, self.identity.state
        parties = (terms.requesting, terms.requested)
        if parties != (body.sender, me) or opening.case_id != body.case_id:
            return f"not a case of {body.sender} to {me}"
        if not opening.case_id.startswith(f"{body.sender}-{me}-"):
            return f"not numbered as a case of {body.sender} to {me}"
        return None

    def _terms_differ(self, opening: OpenCase) -> str | None:
        """Why the opening's terms are not this node's own for the agreement, or None: both
        nodes must compute the same deadlines from the same agreement data."""
        terms = opening.terms
        try:
            own = self.catalogue.terms(
                terms.agreement_id, terms.requesting, terms.requested, terms.protocol_state
            )
        except NotInCatalogue:
            return f"{terms.agreement_id} is not in this node's agreement catalogue"
        if own != terms:
            return f"the {terms.agreement_id} terms differ from this node's agreement data"
        return None

    async def _applied_before(self, body: MessageBody) -> list[Recorded]:
        """The events this node recorded for the message (by its id, the update's), if any."""
        stream = await self.events.read_stream(body.case_id)
        mine = str(body.message_id)
        return [
            r
            for r in stream
            if r.metadata.get("correlation_id") == mine
            and r.metadata.get("command") == body.command_name
        ]

    async def _applied(self, body: MessageBody, content_hash: str, result: CommandResult) -> Answer:
        head = await self.exchange.chain_head(body.case_id)
        receipt = ReceiptBody(
            message_id=body.message_id,
            content_hash=content_hash,
            sender=self.identity.state,
            recipient=body.sender,
            received_at=result.at or datetime.now(UTC),
            outcome="applied",
            refusal=None,
            head=ChainHead(version=head.version, hash=head.hash) if head else None,
            echoed_head=body.head,
            events=tuple(
                ReceiptEvent(event_id=e.event_id, version=e.version, type=e.type, at=e.at)
                for e in result.events
            ),
        )
        return await self._keep(body, receipt)

    async def _final_refusal(
        self, body: MessageBody, content_hash: str, refused: CommandRefused
    ) -> Answer:
        code = refused.code or snake(refused.type)
        if refused.retryable or refused.code is None:
            # not the case's judgement (a worker not answering, a key out of step): for now
            return self._refusal(
                body.message_id, content_hash, body.sender, code, refused.message, True
            )
        head = await self.exchange.chain_head(body.case_id)
        receipt = ReceiptBody(
            message_id=body.message_id,
            content_hash=content_hash,
            sender=self.identity.state,
            recipient=body.sender,
            received_at=datetime.now(UTC),
            outcome="refused",
            refusal=Refusal(code=code, detail=refused.message[:500], retryable=False),
            head=ChainHead(version=head.version, hash=head.hash) if head else None,
            echoed_head=body.head,
            events=(),
        )
        return await self._keep(body, receipt)

    async def _keep(self, body: MessageBody, receipt: ReceiptBody) -> Answer:
        token = sign_receipt(receipt, self.identity.signing_key, self.identity.signing_kid)
        kept = await self.exchange.add_receipt(
            stored_receipt(receipt, "in", body.case_id, body.sender, token)
        )
        return Answer(kept.token, kept.outcome, kept.code)

    def _refusal(
        self,
        message_id: UUID,
        content_hash: str,
        sender: str,
        code: str,
        detail: str,
        retryable: bool,
    ) -> Answer:
        """A signed refusal that is not kept: the message was not authenticated, or it is to be
        tried again."""
        receipt = ReceiptBody(
            message_id=message_id,
            content_hash=content_hash,
            sender=self.identity.state,
            recipient=sender,
            received_at=datetime.now(UTC),
            outcome="refused",
            refusal=Refusal(code=code, detail=detail[:500], retryable=retryable),
            head=None,
            echoed_head=None,
            events=(),
        )
        log.info("message refused", peer=sender, code=code, retryable=retryable)
        token = sign_receipt(receipt, self.identity.signing_key, self.identity.signing_kid)
        return Answer(token, "refused", code)


def _result(body: MessageBody, recorded: list[Recorded]) -> CommandResult:
    """The command result its recorded events give (to answer a receipt once more)."""
    return CommandResult(
        case_id=body.case_id,
        version=recorded[-1].version,
        status="",
        events=tuple(
            RecordedEvent(event_id=r.event_id, version=r.version, type=r.type, at=r.event().at)
            for r in recorded
        ),
        at=recorded[0].event().at,
    )


def _stored(body: MessageBody, token: str, content_hash: str) -> StoredMessage:
    return StoredMessage(
        message_id=body.message_id,
        direction="in",
        case_id=body.case_id,
        peer=body.sender,
        seq=body.seq,
        kind=body.kind,
        command=body.command_name,
        sent_at=body.sent_at,
        head_version=body.head.version if body.head else None,
        head_hash=body.head.hash if body.head else None,
        content_hash=content_hash,
        token=token,
    )
