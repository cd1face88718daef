"""FastAPI dependencies: the services of the app and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import AuthError, Principal
from api.problems import Problem
from api.services import Services

bearer = HTTPBearer(auto_error=False, description="a JWT from `readmit token` or your IdP")


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("a bearer token is required")
    caller = await services(request).verifier.verify(credentials.credentials)
    request.state.principal = caller
    return caller


def writer(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    """Officers and supervisors only: auditors read, never write; admins manage the directory."""
    if not caller.can_write:
        raise Problem(403, "Forbidden", f"a {caller.role} cannot act on cases", type_="forbidden")
    return caller


ServicesDep = Annotated[Services, Depends(services)]
PrincipalDep = Annotated[Principal, Depends(principal)]
WriterDep = Annotated[Principal, Depends(writer)]
