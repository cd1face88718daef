"""Asking the peer for its chain of shared cases, and answering it (docs/federation.md).

Each node keeps the heads its peer signed for a case: in every message (the sender's head when
sending) and every receipt (the receiver's head after applying). `readmit audit verify --peer
--fetch` asks the peer, with a signed request, for its chain of those cases as it stands, signed
too, and compares: a version the peer signed earlier that now has another hash, or is gone, is
a rewrite of the peer's history, provable with the two signatures of the peer's. The answer
holds hashes and versions only, of the cases the two nodes share, for a registered peer.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import structlog

from adapters.db.eventstore import EventStore
from adapters.federation.envelope import (
    CaseHeads,
    ChainHead,
    EnvelopeRefused,
    HeadsAnswer,
    HeadsRequest,
    b64url_decode,
    only_key,
    sign_heads,
    sign_heads_request,
    unverified_header,
    verify_heads,
    verify_heads_request,
)
from adapters.federation.identity import NodeIdentity
from adapters.federation.peers import PeerDirectory, PeerKeyRefused
from adapters.federation.store import ExchangeStore

log = structlog.get_logger(__name__)

HEADS_PATH = "/federation/heads"
JOSE = "application/jose"
FRESH = timedelta(minutes=5)  # how old (or early) a request may be: no replay after that
MAX_ANSWER_BYTES = 8 * 1024 * 1024
BATCH = 100


NOT_ANSWERED = "not a fresh request of a registered peer, signed, for this node"


class HeadsRefused(Exception):
    """A request for heads this node does not answer (unsigned, stale, not for it)."""


@dataclass
class HeadsService:
    """The answering end: this node's chain of cases it shares with the requesting peer."""

    identity: NodeIdentity
    peers: PeerDirectory
    events: EventStore
    exchange: ExchangeStore
    max_bytes: int

    async def answer(self, raw: bytes) -> str:
        now = datetime.now(UTC)
        try:
            token = raw.decode("ascii").strip()
            kid, _ = unverified_header(token)
        except (UnicodeDecodeError, EnvelopeRefused):
            raise HeadsRefused(NOT_ANSWERED) from None
        try:
            sender = _claimed_sender(token)
            key = await self.peers.verification_key(sender, kid, now)
            request = verify_heads_request(token, only_key(key), self.max_bytes).body
        except (EnvelopeRefused, PeerKeyRefused, ValueError) as error:
            log.info("heads request refused", reason=str(error)[:200])
            raise HeadsRefused(NOT_ANSWERED) from None
        if request.recipient != self.identity.state or request.sender != sender:
            raise HeadsRefused(NOT_ANSWERED)
        if abs(request.at - now) > FRESH:
            raise HeadsRefused(NOT_ANSWERED)
        cases = []
        for case_id in request.case_ids:
            exchanged = await self.exchange.messages(case_id)
            if not any(m.peer == sender for m in exchanged):
                continue  # a draft, another pair's case or none: all answered alike, by silence
            stream = await self.events.read_stream(case_id)
            heads = tuple(ChainHead(version=r.version, hash=r.hash.hex()) for r in stream)
            cases.append(CaseHeads(case_id=case_id, heads=heads))
        answer = HeadsAnswer(
            request_id=request.request_id,
            sender=self.identity.state,
            recipient=sender,
            at=now,
            cases=tuple(cases),
        )
        return sign_heads(answer, self.identity.signing_key, self.identity.signing_kid)


def _claimed_sender(token: str) -> str:
    """The request's sender as its (not yet verified) payload names it: whose key to use."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS")
    sender = json.loads(b64url_decode(parts[1])).get("sender")
    if not isinstance(sender, str):
        raise ValueError("no sender")
    return sender


@dataclass
class PeerChains:
    """The asking end: the peer's current chain of cases, signed by the peer."""

    identity: NodeIdentity
    peers: PeerDirectory
    http: httpx.AsyncClient

    async def fetch(self, peer: str, case_ids: list[str]) -> dict[str, dict[int, str]]:
        """case id -> {version: hash} as the peer holds it now (cases it does not hold: {})."""
        found: dict[str, dict[int, str]] = {case_id: {} for case_id in case_ids}
        url = (await self.peers.url(peer, datetime.now(UTC))).rstrip("/") + HEADS_PATH
        for start in range(0, len(case_ids), BATCH):
            batch = tuple(case_ids[start : start + BATCH])
            request = HeadsRequest(
                request_id=uuid.uuid4(),
                sender=self.identity.state,
                recipient=peer,
                at=datetime.now(UTC),
                case_ids=batch,
            )
            token = sign_heads_request(
                request, self.identity.signing_key, self.identity.signing_kid
            )
            status, text = await self._post(url, token)
            if status != 200 or text is None:
                raise HeadsRefused(f"{peer} answered {status} without its signed chain")
            kid, _ = unverified_header(text)
            key = await self.peers.verification_key(peer, kid, datetime.now(UTC))
            answer = verify_heads(text, only_key(key), MAX_ANSWER_BYTES).body
            if answer.request_id != request.request_id or answer.sender != peer:
                raise HeadsRefused(f"{peer}'s answer is for another request")
            for case in answer.cases:
                if case.case_id in found:
                    found[case.case_id] = {h.version: h.hash for h in case.heads}
        return found

    async def _post(self, url: str, token: str) -> tuple[int, str | None]:
        """The answer's status and body, read up to `MAX_ANSWER_BYTES` (None beyond)."""
        headers = {"content-type": JOSE}
        async with self.http.stream("POST", url, content=token.encode(), headers=headers) as r:
            body = bytearray()
            async for chunk in r.aiter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    return r.status_code, None
            return r.status_code, body.decode("ascii", errors="replace")
