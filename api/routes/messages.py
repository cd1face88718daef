"""A case's conversation between the two states (domain.messages): `POST /cases/{id}/messages`
sends one message, `GET /cases/{id}/messages` reads them all.

Either party's officers and supervisors write, for their own side (the case's parties say
which); auditors and the parties read. The text is sealed with the case key before it reaches
the case (like every free text), and opened for those who may see the case, each read recorded
in the disclosure log. On a shared case the message crosses to the other node like any command
(202 while it is on its way; it shows in the conversation once that node's receipt is back).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.auth import Principal
from api.case_access import authorise, check_node, check_side, not_found
from api.commands import MESSAGE_COMMANDS, Caller
from api.conversation import DISCLOSED_FIELDS, conversation
from api.deps import PrincipalDep, ServicesDep, WriterDep
from api.disclosure import record as disclose
from api.message_bodies import MessageBody
from api.routes.cases import (
    CaseId,
    EventOut,
    IdempotencyKey,
    SendingOut,
    actor,
    once,
    update_id,
)
from api.services import Services
from domain.commands import SendCaseMessage

SEND = MESSAGE_COMMANDS[0]

router = APIRouter(
    prefix="/cases",
    tags=["messages"],
    responses={
        403: {"description": "not a party's officer or supervisor (problem+json)"},
        404: {"description": "no such case, or not one of the caller's (problem+json)"},
    },
)


class MessageSent(BaseModel):
    """The message recorded (201), or on its way to the other node of a shared case (202)."""

    case_id: str
    message_id: str
    status: str
    version: int
    events: list[EventOut]
    sending: SendingOut | None = None


def message_command(body: MessageBody, caller: Caller, at: datetime) -> SendCaseMessage:
    """The command a message body asks for: named here (the API's id, never the body's), on
    the caller's side, with its text still in the clear (the gateway seals it)."""
    fields = {**body.model_dump(), "side": caller.side, "message_id": uuid4()}
    command = SEND.kind.build(at, fields)
    assert isinstance(command, SendCaseMessage)
    return command


@router.post(
    "/{case_id}/messages",
    status_code=201,
    response_model=MessageSent,
    response_model_exclude_none=True,
    summary=SEND.help,
    responses={
        202: {"description": "on its way to the other node (a shared case)"},
        409: {"description": "the case refuses the message: a draft, closed (problem+json)"},
        422: {"description": "an empty, oversized or malformed message (problem+json)"},
    },
)
async def send_case_message(
    case_id: CaseId,
    body: MessageBody,
    request: Request,
    services: ServicesDep,
    caller: WriterDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    check_node(services, caller)
    side = check_side(caller, await authorise(services, caller, case_id), SEND)
    issued = message_command(body, Caller(caller.user_id, side), datetime.now(UTC))

    async def run() -> tuple[int, Any]:
        result = await services.gateway.execute(
            case_id, issued, actor(caller), request_id=update_id(caller, idempotency_key)
        )
        await services.projector.catch_up()
        answer = MessageSent(
            case_id=result.case_id,
            message_id=str(issued.message_id),
            status=result.status,
            version=result.version,
            events=[EventOut(type=e.type, version=e.version, at=e.at) for e in result.events],
            sending=SendingOut(**result.sending.model_dump()) if result.sending else None,
        )
        return (202 if result.sending else 201), answer.model_dump(mode="json", exclude_none=True)

    return await once(services, caller, idempotency_key, request, body, run)


@router.get("/{case_id}/messages", summary="The case's conversation between the two states")
async def case_messages(
    case_id: CaseId, services: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    """Every message of the case, oldest first, with its author, instant and opened text."""
    parties = await authorise(services, caller, case_id)
    recorded = await services.store.read_stream(case_id)
    if not recorded:
        raise not_found(case_id)
    await read_disclosed(services, caller, case_id)
    sealers = await services.vault.sealers([case_id])
    items = conversation(recorded, sealers[case_id], (parties.requesting, parties.requested))
    return {"case_id": case_id, "messages": items}


async def read_disclosed(
    services: Services,
    caller: Principal,
    case_id: str,
    endpoint: str = "GET /cases/{id}/messages",
) -> None:
    """One disclosure-log row: `caller` read the case's messages (their texts are personal)."""
    await disclose(
        services.pool,
        caller,
        case_id,
        purpose="messages",
        endpoint=endpoint,
        fields=DISCLOSED_FIELDS,
    )
