"""The disclosure log for auditors: who saw which case's personal data, when and why.

Auditors only, and only for cases they may audit (`Principal.sees_case`: an auditor of the
requested state sees nothing of a case not submitted to it): a case's parties come from the
`cases` read model, and a case not (yet) in it is not shown. A row written for a list or a
dashboard names every case it showed; an auditor sees it naming only the cases it may audit
(and not at all if none), so the log discloses no other state's cases. A row naming no case
(a codec decode of payloads of no case) is for auditors of every state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

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
    case_id: str | None = Field(description="the one case read or exported; null for a list")
    case_ids: list[str] = Field(
        description="every case the request showed (of those the auditor may see)"
    )
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
    items = [Disclosure(**dict(row)) for row in rows]
    if case_id is not None:  # the rows about this case, whatever else a list showed with it
        items = [item.model_copy(update={"case_ids": [case_id]}) for item in items]
    if not everywhere:
        named = {c for item in items for c in item.case_ids}
        sides = await parties(services.pool, named)

        def sees(case: str) -> bool:
            found = sides.get(case)
            return found is not None and caller.sees_case(
                found.requesting, found.requested, disclosed=found.disclosed
            )

        items = [
            item.model_copy(update={"case_ids": shown})
            for item in items
            if (shown := [c for c in item.case_ids if sees(c)])
        ][:limit]
    return DisclosureList(items=items)
