"""The disclosure log for auditors: who saw which case's personal data, when and why.

Auditors only, and only for cases they may audit (`Principal.sees_case`: an auditor of the
requested state sees nothing of a case not submitted to it): a case's parties come from the
`cases` read model, and a case not (yet) in it is not shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from adapters.db.case_queries import parties
from api.auth import ALL_STATES, Principal
from api.deps import ServicesDep, principal
from api.disclosure import entries
from api.problems import Problem

router = APIRouter(
    prefix="/audit",
    tags=["audit"],
    responses={403: {"description": "auditors only (problem+json)"}},
)
# Rows read per request when the auditor's scope must be applied after reading.
SCAN_LIMIT = 5000


def auditor(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    if caller.role != "auditor":
        raise Problem(403, "Forbidden", "the disclosure log is for auditors", type_="forbidden")
    return caller


class Disclosure(BaseModel):
    id: int
    at: datetime
    user_id: str
    role: str
    state: str | None
    case_id: str
    purpose: str
    endpoint: str
    fields: list[str]


class DisclosureList(BaseModel):
    items: list[Disclosure]


@router.get(
    "/disclosures",
    response_model=DisclosureList,
    summary="Who saw which case's personal data (newest first), within the auditor's states",
)
async def disclosures(
    services: ServicesDep,
    caller: Annotated[Principal, Depends(auditor)],
    case_id: Annotated[str | None, Query(max_length=40, pattern=r"^[A-Z0-9-]+$")] = None,
    user_id: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9._@-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DisclosureList:
    everywhere = ALL_STATES in caller.states
    rows = await entries(
        services.pool,
        case_id=case_id,
        user_id=user_id,
        limit=limit if everywhere else SCAN_LIMIT,
    )
    if not everywhere:
        sides = await parties(services.pool, {row["case_id"] for row in rows})
        rows = [
            row
            for row in rows
            if (found := sides.get(row["case_id"]))
            and caller.sees_case(found.requesting, found.requested, disclosed=found.disclosed)
        ][:limit]
    return DisclosureList(items=[Disclosure(**dict(row)) for row in rows])
