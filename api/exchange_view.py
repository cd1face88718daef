"""A shared case's exchange with the other node, as the API and the case page show it: each
message sent and received with its receipt (when, outcome, refusal code), and what is still on
its way (docs/federation.md). Metadata only: the commands' contents stay sealed."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.service import RPCError

from adapters.temporal.cases import CaseNotFound
from api.services import Services

VIEW_SECONDS = 5.0  # the case page does not wait longer for what is on its way


async def exchange_record(services: Services, case_id: str) -> dict[str, Any] | None:
    """The case's exchange, or None on a node that is not federated."""
    if services.inbound is None:
        return None
    kept = services.inbound.exchange
    receipts = {(r.message_id, r.direction): r for r in await kept.receipts(case_id)}
    messages = []
    for m in await kept.messages(case_id):
        receipt = receipts.get((m.message_id, m.direction))
        messages.append(
            {
                "message_id": str(m.message_id),
                "direction": "sent" if m.direction == "out" else "received",
                "peer": m.peer,
                "seq": m.seq,
                "kind": m.kind,
                "command": m.command,
                "sent_at": m.sent_at.isoformat(),
                "receipt": None
                if receipt is None
                else {
                    "received_at": receipt.received_at.isoformat(),
                    "outcome": receipt.outcome,
                    "code": receipt.code,
                },
            }
        )
    try:
        view = await asyncio.wait_for(services.gateway.view(case_id), VIEW_SECONDS)
    except (CaseNotFound, RPCError, TimeoutError):  # no workflow to ask: the record stands
        view = None
    pending = view.exchange.outbox if view and view.exchange else ()
    refused = view.exchange.refused if view and view.exchange else ()
    return {
        "case_id": case_id,
        "peer": services.gateway.peer_of(case_id),
        "messages": messages,
        "on_its_way": [
            {
                "message_id": str(m.message_id),
                "seq": m.seq,
                "command": m.command.command,
                "sent_at": m.sent_at.isoformat(),
            }
            for m in pending
        ],
        "refused": [
            {"message_id": str(r.message_id), "command": r.command, "code": r.code} for r in refused
        ],
    }
