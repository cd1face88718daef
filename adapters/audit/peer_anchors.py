"""Cross-anchoring (docs/federation.md): a federated node's copy of a case against the chain heads
its peer signed.

Every message carries its sender's chain head for the case, and every receipt echoes it back,
signed by the receiver, with the receiver's own head after applying. So the peer holds, signed,
this node's heads at every exchange, and this node holds copies of those receipts. A history
rewritten here after an exchange, even with its hash chain recomputed, no longer holds the head
the peer signed for: `peer_findings` names each such version, from this node's store alone, and
the peer's copy of the receipt proves it to anyone. The heads this node signed in its own
receipts are checked the same way (the peer keeps those).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from adapters.db.eventstore import Recorded
from adapters.federation.envelope import (
    EnvelopeRefused,
    ReceiptBody,
    only_key,
    unverified_header,
    verify_message,
    verify_receipt,
)
from adapters.federation.heads import HeadsRefused, PeerChains
from adapters.federation.peers import PeerDirectory, PeerKeyRefused
from adapters.federation.store import ExchangeStore, StoredReceipt

Kind = Literal["rewritten", "truncated", "unverifiable", "peer_rewritten", "peer_truncated"]
MAX_RECEIPT_BYTES = 1_048_576


@dataclass(frozen=True)
class PeerFinding:
    """One place where the case departs from a head signed in the exchange with the peer."""

    kind: Kind
    version: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "version": self.version, "detail": self.detail}


@dataclass
class PeerAnchors:
    """What `readmit audit verify --peer` checks each case against; with `chains` (`--fetch`),
    also the peer's own chain as it answers now against the heads it signed earlier."""

    exchange: ExchangeStore
    peers: PeerDirectory
    chains: PeerChains | None = None

    async def findings(self, case_id: str, stored: Sequence[Recorded]) -> list[PeerFinding]:
        found = await self._own(case_id, stored)
        if self.chains is not None:
            found += await self._peers(case_id)
        return found

    async def _peers(self, case_id: str) -> list[PeerFinding]:
        """The heads the peer signed (its head in each of its messages, and after applying
        each of ours in its receipts) against its chain as it answers now."""
        assert self.chains is not None
        signed: list[tuple[str, int, str, str]] = []
        found: list[PeerFinding] = []
        for message in await self.exchange.messages(case_id):
            if message.direction != "in":
                continue
            what = f"{message.peer}'s message {message.message_id}"
            try:  # the head as the peer signed it, not as a column here says
                kid, _ = unverified_header(message.token)
                key = await self.peers.verification_key(message.peer, kid, message.sent_at)
                head = verify_message(message.token, only_key(key), MAX_RECEIPT_BYTES).body.head
            except (EnvelopeRefused, PeerKeyRefused) as error:
                found.append(PeerFinding("unverifiable", 0, f"{what} does not verify: {error}"))
                continue
            if head is not None:
                signed.append((message.peer, head.version, head.hash, what))
        for receipt in await self.exchange.receipts(case_id):
            if receipt.direction != "out":
                continue
            what = f"{receipt.peer}'s receipt of message {receipt.message_id}"
            try:
                body = await self._verified(receipt)
            except (EnvelopeRefused, PeerKeyRefused) as error:
                found.append(PeerFinding("unverifiable", 0, f"{what} does not verify: {error}"))
                continue
            if body.head is not None:
                signed.append((receipt.peer, body.head.version, body.head.hash, what))
        for peer in sorted({s[0] for s in signed}):
            try:
                now = (await self.chains.fetch(peer, [case_id]))[case_id]
            except (HeadsRefused, PeerKeyRefused, EnvelopeRefused, httpx.HTTPError) as error:
                found.append(PeerFinding("unverifiable", 0, f"{peer} did not answer: {error}"))
                continue
            for _, version, digest, what in (s for s in signed if s[0] == peer):
                if version not in now:
                    detail = f"{peer}'s version {version} is gone (signed in {what})"
                    found.append(PeerFinding("peer_truncated", version, detail))
                elif now[version] != digest:
                    detail = f"{peer}'s version {version} differs from {what}"
                    found.append(PeerFinding("peer_rewritten", version, detail))
        return found

    async def _own(self, case_id: str, stored: Sequence[Recorded]) -> list[PeerFinding]:
        hashes = {r.version: r.hash.hex() for r in stored}
        found: list[PeerFinding] = []
        for receipt in await self.exchange.receipts(case_id):
            if receipt.direction == "out":
                problem = await self._unverified(receipt)
                if problem is not None:
                    found.append(PeerFinding("unverifiable", receipt.echoed_version or 0, problem))
                    continue
                head = (receipt.echoed_version, receipt.echoed_hash)
                whose = f"{receipt.peer}'s signed receipt of message {receipt.message_id}"
            else:
                head = (receipt.head_version, receipt.head_hash)
                whose = f"this node's signed receipt to {receipt.peer} of {receipt.message_id}"
            version, digest = head
            if version is None or digest is None:
                continue
            if version not in hashes:
                found.append(
                    PeerFinding("truncated", version, f"version {version} is gone ({whose})")
                )
            elif hashes[version] != digest:
                found.append(
                    PeerFinding("rewritten", version, f"version {version} differs from {whose}")
                )
        return found

    async def _verified(self, receipt: StoredReceipt) -> ReceiptBody:
        """A kept receipt of the peer's, verified with its key at the receipt's instant."""
        kid, _ = unverified_header(receipt.token)
        key = await self.peers.verification_key(receipt.peer, kid, receipt.received_at)
        return verify_receipt(receipt.token, only_key(key), MAX_RECEIPT_BYTES).body

    async def _unverified(self, receipt: StoredReceipt) -> str | None:
        """Why a kept receipt of the peer's does not verify (altered here), or None."""
        try:
            body = await self._verified(receipt)
        except (EnvelopeRefused, PeerKeyRefused) as error:
            return f"the receipt of message {receipt.message_id} does not verify: {error}"
        echoed = body.echoed_head
        kept = (receipt.echoed_version, receipt.echoed_hash)
        signed = (echoed.version, echoed.hash) if echoed else (None, None)
        if signed != kept:
            return f"the receipt of message {receipt.message_id} differs from its stored columns"
        return None
