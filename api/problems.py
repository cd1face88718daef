"""Errors as RFC 9457 problem details (`application/problem+json`).

422 for invalid input (which field and why), 409 for a command the case refuses (with the
domain error's type) or a concurrency conflict, 401/403/404, and 503 with `Retry-After` while
PostgreSQL or Temporal is unreachable. Nothing answers 500 to bad input; an unexpected error
answers 500 without internals and is logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from adapters.db.eventstore import ConcurrencyError
from adapters.protection.vault import DataErased
from adapters.temporal.cases import CaseNotFound, CommandRefused
from api.auth import AuthError

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
BASE = "https://readmit.example/problems/"
RETRY_AFTER_SECONDS = 5
# Errors meaning a backing service is unreachable: 503 with Retry-After (pages alike), never 500.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08: the connection failed
    asyncpg.exceptions.AdminShutdownError,  # 57P01: the server is shutting down
    asyncpg.exceptions.CrashShutdownError,  # 57P02: the server crashed
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    TimeoutError,
)


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.type = type_ or title.lower().replace(" ", "-")
        self.extra = extra


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_ if type_ == "about:blank" else BASE + type_,
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for item in error.errors():
        location = [str(p) for p in item.get("loc", ())]
        errors.append(
            {
                "field": ".".join(p for p in location if p != "body") or "(body)",
                "in": location[0] if location else "body",
                "message": str(item.get("msg", "invalid")),
                "type": str(item.get("type", "value_error")),
            }
        )
    return errors


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    @app.exception_handler(Problem)
    async def _problem(_: Request, error: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return problem_response(
            error.status,
            error.title,
            error.detail,
            type_=error.type,
            headers=headers,
            **error.extra,
        )

    @app.exception_handler(AuthError)
    async def _auth(_: Request, error: AuthError) -> JSONResponse:
        return problem_response(
            401,
            "Unauthorized",
            str(error),
            type_="unauthorized",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return problem_response(
            422,
            "Invalid input",
            "the request does not match the schema",
            type_="invalid-input",
            errors=_validation_errors(error),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "Error")
        return problem_response(error.status_code, title, str(error.detail), headers=error.headers)

    @app.exception_handler(CommandRefused)
    async def _refused(_: Request, error: CommandRefused) -> JSONResponse:
        status = error.http_status if error.http_status in (409, 422) else 409
        quoted: dict[str, Any] = {"rule": error.rule} if error.rule else {}
        return problem_response(
            status,
            "Command refused",
            error.message,
            type_="command-refused",
            domain_error=error.type,
            **quoted,
        )

    @app.exception_handler(DataErased)
    async def _erased(_: Request, error: DataErased) -> JSONResponse:
        return problem_response(410, "Personal data erased", str(error), type_="data-erased")

    @app.exception_handler(CaseNotFound)
    async def _not_found(_: Request, error: CaseNotFound) -> JSONResponse:
        return problem_response(404, "Not found", f"no case {error}", type_="case-not-found")

    @app.exception_handler(ConcurrencyError)
    async def _conflict(_: Request, error: ConcurrencyError) -> JSONResponse:
        return problem_response(409, "Conflict", str(error), type_="concurrency-conflict")

    async def _unavailable(_: Request, error: Exception) -> JSONResponse:
        log.warning("dependency unavailable", error_type=type(error).__name__)
        return problem_response(
            503,
            "Service unavailable",
            "a backing service (PostgreSQL or Temporal) is unreachable; retry shortly",
            type_="unavailable",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    for error_type in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error_type, _unavailable)

    @app.exception_handler(RPCError)
    async def _rpc(request: Request, error: RPCError) -> JSONResponse:
        if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return await _unavailable(request, error)
        if error.status == RPCStatusCode.NOT_FOUND:
            return problem_response(404, "Not found", "no such case", type_="case-not-found")
        log.error("temporal error", status=str(error.status))
        return problem_response(500, "Internal error", "an unexpected error was logged")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error", error_type=type(error).__name__)
        return problem_response(500, "Internal error", "an unexpected error was logged")
