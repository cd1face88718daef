"""The node's federation endpoints (docs/federation.md): where peers deliver messages, and what
any peer or auditor may read to check them: the node's public descriptor and the JSON Schemas of
messages and receipts.

No bearer token here: a message is authenticated by its signature against the sender's
registered key, which `adapters.federation.inbound` checks before anything else happens, and it
is answered with a signed receipt (200), whatever the outcome. A body that is not a message at
all gets a problem document (400); a node that is not federated has no such endpoint (404).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from adapters.federation.heads import HeadsRefused
from adapters.federation.inbound import JOSE, Inbound, NotAMessage
from adapters.federation.schemas import message_schema, receipt_schema
from api.deps import ServicesDep
from api.problems import Problem
from api.services import Services

router = APIRouter(prefix="/federation", tags=["federation"])


def not_a_node() -> Problem:
    """What a single installation answers on a federated node's endpoints."""
    return Problem(404, "Not a federated node", "this installation exchanges no messages")


def _inbound(services: Services) -> Inbound:
    if services.inbound is None:
        raise not_a_node()
    return services.inbound


@router.post(
    "/messages",
    summary="Deliver a signed message from a peer node; answers its signed receipt",
    responses={
        200: {"content": {JOSE: {}}, "description": "the signed receipt (compact JWS)"},
        404: {"description": "not a federated node (problem+json)"},
    },
)
async def deliver(request: Request, services: ServicesDep) -> Response:
    inbound = _inbound(services)
    try:
        answer = await inbound.receive(await request.body())
    except NotAMessage as error:
        raise Problem(400, "Not a message", str(error)) from None
    if answer.outcome == "applied":
        await services.projector.catch_up()  # the case lists and opens here at once
    return Response(answer.token, media_type=JOSE)


@router.get(
    "/descriptor",
    summary="This node's public descriptor: state, URL, public keys",
    responses={404: {"description": "not a federated node (problem+json)"}},
)
async def descriptor(services: ServicesDep) -> dict[str, Any]:
    inbound = _inbound(services)
    result: dict[str, Any] = inbound.identity.descriptor().model_dump(mode="json")
    return result


@router.post(
    "/heads",
    summary="A registered peer's signed request for this node's chain of cases they share; "
    "answers the chain, signed",
    responses={
        200: {"content": {JOSE: {}}, "description": "the signed heads (compact JWS)"},
        403: {"description": "not a fresh request signed by a registered peer (problem+json)"},
        404: {"description": "not a federated node (problem+json)"},
    },
)
async def heads(request: Request, services: ServicesDep) -> Response:
    if services.heads is None:
        raise not_a_node()
    try:
        answer = await services.heads.answer(await request.body())
    except HeadsRefused as refused:
        raise Problem(403, "Forbidden", str(refused), type_="forbidden") from None
    return Response(answer, media_type=JOSE)


@router.get("/schemas/message.json", summary="JSON Schema of a message's signed body")
async def message_json_schema() -> dict[str, Any]:
    return message_schema()


@router.get("/schemas/receipt.json", summary="JSON Schema of a receipt's signed body")
async def receipt_json_schema() -> dict[str, Any]:
    return receipt_schema()
