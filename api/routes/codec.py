"""The Temporal remote codec: the web UI (and `temporal --codec-endpoint`) decode payloads here.

Temporal keeps only ciphertext (see adapters/temporal/codec.py); to show a history in plaintext
the UI POSTs `{"payloads": [{"metadata": {k: base64}, "data": base64}]}` to `<endpoint>/decode`
with an `X-Namespace` header, from the browser. So: CORS for the UI's origins, preflights
answered without a token, and CORS headers on every answer, errors included, so the UI can show
a 401 or 403 instead of a network error.

A history holds every case's data (inside its seals), so decoding is for those who may read every
state's cases: auditors of all states (`states: ["*"]`) and the installation's operators, an
administrator whose token carries the scope `codec:decode`. Anyone else gets 403, an auditor of
some states included. Each decode is written to the disclosure log, one row naming the cases
its payloads name, and logged with the caller, the namespace and the number of payloads (never
their data). There is no `/encode`: the UI only reads histories, and no one should make
ciphertext with the production key by HTTP.
"""

from __future__ import annotations

import base64
import inspect
import re
from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any

import structlog
from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.routing import APIRoute
from google.protobuf.message import DecodeError
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload

from adapters import encoding
from adapters.keys import payload_keyring
from adapters.settings import Settings
from adapters.temporal.codec import EncryptionCodec, KeyringError
from api.auth import ALL_STATES, CODEC_SCOPE, Principal
from api.deps import PrincipalDep, ServicesDep
from api.disclosure import record_shown
from api.problems import Problem

log = structlog.get_logger(__name__)

# The UI on the same host (docker-compose, `temporal server start-dev`) until the setting is set.
DEFAULT_UI_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080", "http://localhost:8233")
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
PREFLIGHT_MAX_AGE = "600"


def ui_origins(settings: Settings) -> tuple[str, ...]:
    """The origins allowed to call the codec from a browser (`READMIT_CODEC_CORS_ORIGINS`);
    unset, the UIs on this host: docker-compose's, and the dev server's at its port
    (`READMIT_TEMPORAL_UI_PORT`, the one `readmit run` chose) by either name of the host."""
    if "codec_cors_origins" in settings.model_fields_set:
        return settings.codec_cors_origins
    port = settings.temporal_ui_port
    dev_ui = (f"http://localhost:{port}", f"http://127.0.0.1:{port}")
    defaults = settings.codec_cors_origins or DEFAULT_UI_ORIGINS
    return (*defaults, *(origin for origin in dev_ui if origin not in defaults))


def _cors(request: Request, response: Response) -> None:
    origin = request.headers.get("origin")
    services = getattr(request.app.state, "services", None)
    if origin is None or services is None or origin not in ui_origins(services.settings):
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Vary"] = "Origin"


async def _handled(request: Request, error: Exception) -> Response:
    """The app's own answer to `error` (problem+json), as its exception handlers would give."""
    for kind in type(error).__mro__:
        handler = request.app.exception_handlers.get(kind)
        if handler is not None:
            response = handler(request, error)
            answer: Response = await response if inspect.isawaitable(response) else response
            return answer
    raise error


class CorsRoute(APIRoute):
    """Adds the CORS headers to every answer of the route, the error answers included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handle(request)
            except Exception as error:
                response = await _handled(request, error)
            _cors(request, response)
            return response

        return with_cors


router = APIRouter(
    prefix="/codec",
    tags=["operations"],
    route_class=CorsRoute,
    responses={403: {"description": "only auditors of every state and operators (problem+json)"}},
)


class PayloadJson(BaseModel):
    """One Temporal payload in protobuf JSON: metadata values and data are base64."""

    metadata: dict[str, str] = Field(default_factory=dict)
    data: str = ""


class PayloadsJson(BaseModel):
    payloads: list[PayloadJson]


def may_decode(caller: Principal) -> bool:
    """Auditors of every state, and administrators granted the codec scope (the operators)."""
    if caller.role == "auditor":
        return ALL_STATES in caller.states
    return caller.role == "admin" and CODEC_SCOPE in caller.scopes


def codec_reader(caller: PrincipalDep) -> Principal:
    if not may_decode(caller):
        raise Problem(
            403,
            "Forbidden",
            "decoding payloads is for auditors of every state and operators"
            f" (an administrator with the scope {CODEC_SCOPE})",
            type_="forbidden",
        )
    return caller


CodecCallerDep = Annotated[Principal, Depends(codec_reader)]
NamespaceHeader = Annotated[str | None, Header(alias="X-Namespace")]


def payload_codec(request: Request, services: ServicesDep) -> EncryptionCodec:
    """The codec over the app's keyring, built on first use and kept for the process."""
    codec: EncryptionCodec | None = getattr(request.app.state, "payload_codec", None)
    if codec is None:
        # a history also holds payloads in clear (markers, a CLI's input): shown as they are
        codec = EncryptionCodec(payload_keyring(services.settings), refuse_plain=False)
        request.app.state.payload_codec = codec
    return codec


CodecDep = Annotated[EncryptionCodec, Depends(payload_codec)]


def _bytes(text: str) -> bytes:
    """Protobuf JSON bytes: standard or URL-safe base64, padded or not; anything else refused."""
    return encoding.decode(text)


def _parse(body: PayloadsJson) -> list[Payload]:
    try:
        return [
            Payload(metadata={k: _bytes(v) for k, v in p.metadata.items()}, data=_bytes(p.data))
            for p in body.payloads
        ]
    except ValueError as error:
        raise Problem(
            422, "Invalid input", "payload data and metadata must be base64", type_="invalid-input"
        ) from error


def _render(payloads: Sequence[Payload]) -> PayloadsJson:
    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return PayloadsJson(
        payloads=[
            PayloadJson(metadata={k: b64(v) for k, v in p.metadata.items()}, data=b64(p.data))
            for p in payloads
        ]
    )


# A case id anywhere in a decoded payload (its JSON): the case the payload belongs to.
_CASE_ID = re.compile(rb"\b[A-Z]{2}-[A-Z]{2}-[0-9]{4}-[0-9]{6}\b")
_NAMESPACE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def named_cases(decoded: Sequence[Payload]) -> set[str]:
    """The case ids the decoded payloads name (a case's workflow id, its commands, its events)."""
    return {m.decode() for p in decoded for m in _CASE_ID.findall(p.data)}


@router.post(
    "/decode",
    summary="Decrypt payloads for the Temporal web UI or CLI (auditors of every state, operators)",
    response_model=PayloadsJson,
)
async def decode(
    body: PayloadsJson,
    caller: CodecCallerDep,
    codec: CodecDep,
    services: ServicesDep,
    namespace: NamespaceHeader = None,
) -> PayloadsJson:
    payloads = _parse(body)
    try:
        decoded = await codec.decode(payloads)
    except (KeyringError, InvalidTag, DecodeError, KeyError) as error:
        raise Problem(
            422,
            "Undecodable payload",
            "a payload was encrypted with an unknown key or altered",
            type_="undecodable-payload",
        ) from error
    where = namespace if namespace and _NAMESPACE.match(namespace) else "unnamed"
    cases = named_cases(decoded)
    await record_shown(
        services.pool,
        caller,
        sorted(cases),
        purpose=f"Temporal payloads decoded (namespace {where})",
        endpoint="POST /codec/decode",
        fields=("payloads",),
    )
    log.info(
        "payloads decoded",
        user_id=caller.user_id,
        role=caller.role,
        namespace=where,
        payloads=len(decoded),
        cases=len(cases),
    )
    return _render(decoded)


@router.options("/decode", include_in_schema=False)
async def preflight() -> Response:
    """CORS preflight: browsers send it without credentials, so it needs no token."""
    return Response(
        status_code=200,
        headers={
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        },
    )
