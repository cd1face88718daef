"""`GET /workload`: a state's open cases per officer on its side, with the overdue and due-soon
counts and the unassigned cases (`api.workload`, where the counts are defined). For the
state's supervisors and auditors; officers and administrators get 403."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ServicesDep
from api.workload import Load, workload, workload_state

router = APIRouter(prefix="/workload", tags=["cases"])


class LoadOut(BaseModel):
    officer: str | None = Field(description="user id; null for the side's unassigned cases")
    role: str | None
    display_name: str | None
    active: bool = Field(description="false: an assignee no longer active in the directory")
    cases: int = Field(description="open cases on the state's side")
    overdue: int = Field(description="of them, with a limit passed")
    due_soon: int = Field(description="of them, not overdue, next deadline within the horizon")

    @classmethod
    def of(cls, load: Load) -> LoadOut:
        return cls(**load.__dict__)


class WorkloadOut(BaseModel):
    state: str
    at: datetime
    soon_working_days: int = Field(
        description="due soon: the next deadline ends by the close of this many working days "
        "after today, in the deadline's own calendar and time zone"
    )
    officers: list[LoadOut]
    unassigned: LoadOut
    awaiting_approval: int = Field(
        0,
        description="open cases whose reply, drafted on the state's requested side, awaits a "
        "supervisor's approval (the state's own drafts only)",
    )


@router.get(
    "",
    response_model=WorkloadOut,
    summary="Open cases per officer of the state, with overdue and due-soon counts",
    responses={
        403: {"description": "not a supervisor or auditor of the state (problem+json)"},
        422: {"description": "an auditor of several states names none (problem+json)"},
    },
)
async def get_workload(
    services: ServicesDep,
    caller: PrincipalDep,
    state: Annotated[
        str | None,
        Query(pattern=r"^[A-Z]{2}$", description="the state (auditors of several states)"),
    ] = None,
) -> WorkloadOut:
    found = await workload(services.pool, workload_state(caller, state), datetime.now(UTC))
    return WorkloadOut(
        state=found.state,
        at=found.at,
        soon_working_days=found.soon_working_days,
        officers=[LoadOut.of(load) for load in found.officers],
        unassigned=LoadOut.of(found.unassigned),
        awaiting_approval=found.awaiting_approval,
    )
