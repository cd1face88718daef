"""`POST /search/persons`: find the cases of a person by name, birth date or document number.

Names are personal data, so they travel only in the body (never in a URL, which logs and proxies
keep). The search compares keyed hashes (the blind index, api/person_search.py), scores each
case the caller may know by the criteria it matches, and lists the best with their reasons.
Auditors may search (a read); every answer naming cases is in the disclosure log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from adapters.protection.blind_index import PersonQuery
from api.deps import PrincipalDep, ServicesDep
from api.person_search import search_persons
from domain.values import ShortText

router = APIRouter(
    prefix="/search",
    tags=["search"],
    responses={
        403: {"description": "an administrator (problem+json)"},
        422: {"description": "no criterion, or a malformed one (problem+json)"},
    },
)
ENDPOINT = "POST /search/persons"


class PersonSearchBody(BaseModel):
    """Any of the four criteria; at least one."""

    model_config = ConfigDict(extra="forbid")

    surname: ShortText | None = None
    given_names: ShortText | None = None
    birth_date: date | None = None
    document_number: str | None = Field(
        default=None, min_length=1, max_length=60, pattern=r"^[0-9A-Za-z <\-/.]+$"
    )
    limit: int = Field(default=20, ge=1, le=100)


class PersonMatch(BaseModel):
    case_id: str
    score: float = Field(description="the weight of the criteria matched over those asked (0–1)")
    reasons: list[str] = Field(
        description="the criteria that matched; `surname~`: only a similar spelling did"
    )
    status: str
    requesting: str
    requested: str
    person: str = Field(description="the case's person summary (surname, initial, birth year)")
    opened_at: str


class PersonSearchResult(BaseModel):
    items: list[PersonMatch]


@router.post(
    "/persons",
    response_model=PersonSearchResult,
    summary="Find the cases of a person (names in the body, never in the URL)",
)
async def persons(
    body: PersonSearchBody, services: ServicesDep, caller: PrincipalDep
) -> dict[str, Any]:
    query = PersonQuery(body.surname, body.given_names, body.birth_date, body.document_number)
    items = await search_persons(services, caller, query, limit=body.limit, endpoint=ENDPOINT)
    return {"items": items}
