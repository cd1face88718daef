"""`GET /stats`: the statistics page's figures as JSON, for scripts and the CLI (`readmit
stats`). The same selection as the page and its CSV (`api.web.stats.stats_filter`): the
caller's cases only (a state's officers and supervisors their state's, auditors their states'),
the same filters, the same figures (what each one means: api/web/stats.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ServicesDep
from api.web.stats import Breakdown, Group, breakdowns, figures, parse_day, stats_filter
from domain.values import CaseKind

router = APIRouter(prefix="/stats", tags=["statistics"])
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class GroupOut(BaseModel):
    """The figures of one agreement and counterpart state (both null: every case in scope)."""

    agreement: str | None
    counterpart: str | None = Field(
        description="the other state, relative to the caller's; `PL→UA` for callers of many"
    )
    cases: int
    by_status: dict[str, int]
    replies: int = Field(description="acceptances and refusals sent (deemed ones not)")
    within_limit: int = Field(description="replies sent by the reply deadline in force")
    share_within_limit: float | None
    median_reply_days: float | None = Field(description="from the confirmed receipt")
    deemed: int = Field(description="deemed acceptances (a transit's: deemed consents)")
    overdue_transfers: int

    @classmethod
    def of(cls, g: Group) -> GroupOut:
        return cls(
            agreement=g.agreement,
            counterpart=g.counterpart,
            cases=g.cases,
            by_status={s: n for s, n in g.by_status.items() if n},
            replies=g.replies,
            within_limit=g.within_limit,
            share_within_limit=g.share_within_limit,
            median_reply_days=g.median_reply_days,
            deemed=g.deemed,
            overdue_transfers=g.overdue_transfers,
        )


class BreakdownOut(BaseModel):
    """The cases sharing one value of a dimension (`value` null: none recorded)."""

    value: str | None
    cases: int
    replies: int = Field(description="acceptances and refusals sent (deemed ones not)")
    acceptances: int = Field(description="a transit's: consents")
    refusals: int
    deemed: int
    transfers: int = Field(description="transfers (a transit's: transits) completed")

    @classmethod
    def of(cls, b: Breakdown) -> BreakdownOut:
        return cls(
            value=b.value,
            cases=b.cases,
            replies=b.replies,
            acceptances=b.acceptances,
            refusals=b.refusals,
            deemed=b.deemed,
            transfers=b.transfers,
        )


class StatsOut(BaseModel):
    """The caller's statistics: per agreement and counterpart, in total, and broken down."""

    kind: str
    agreement: str | None
    opened_from: date | None = Field(alias="from", description="first day of opening included")
    opened_to: date | None = Field(alias="to", description="last day of opening included")
    time_zone: str = Field(
        description="whose days and months: the caller's state's (auditors: UTC)"
    )
    groups: list[GroupOut]
    total: GroupOut
    by_month: list[BreakdownOut] = Field(
        description="per month of opening (YYYY-MM), gaps between the first and last filled"
    )
    by_procedure: list[BreakdownOut]
    by_crossing_point: list[BreakdownOut] = Field(
        description="per border crossing point of the latest transfer plan (transit: entry point)"
    )
    by_verification: list[BreakdownOut] = Field(
        description="per verification outcome: refusal reasons are sealed free text, not counted"
    )

    model_config = {"populate_by_name": True}


@router.get(
    "",
    response_model=StatsOut,
    response_model_by_alias=True,
    summary="The caller's statistics, as the statistics page shows them",
    responses={
        403: {"description": "administrators see no cases (problem+json)"},
        422: {"description": "a filter that is not valid (problem+json)"},
    },
)
async def statistics(
    services: ServicesDep,
    caller: PrincipalDep,
    kind: Annotated[CaseKind, Query(description="each kind of case is counted apart")] = (
        CaseKind.READMISSION
    ),
    agreement: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2,3}-[A-Za-z]{2,3}$", description="e.g. EU-UA")
    ] = None,
    opened_from: Annotated[
        str | None,
        Query(
            alias="from",
            pattern=DAY,
            json_schema_extra={"format": "date"},
            description="opened on this day or later, YYYY-MM-DD",
        ),
    ] = None,
    opened_to: Annotated[
        str | None,
        Query(
            alias="to",
            pattern=DAY,
            json_schema_extra={"format": "date"},
            description="opened on this day or earlier, YYYY-MM-DD",
        ),
    ] = None,
) -> StatsOut:
    first, last = parse_day(opened_from, "from"), parse_day(opened_to, "to")
    selection = stats_filter(caller, agreement=agreement, first=first, last=last, kind=kind.value)
    groups = await figures(services.pool, selection)
    found = await breakdowns(services.pool, selection)
    return StatsOut(
        kind=selection.kind,
        agreement=selection.agreement,
        opened_from=first,
        opened_to=last,
        time_zone=selection.time_zone,
        groups=[GroupOut.of(g) for g in groups if not g.is_total],
        total=GroupOut.of(groups[-1]),
        by_month=[BreakdownOut.of(b) for b in found["month"]],
        by_procedure=[BreakdownOut.of(b) for b in found["procedure"]],
        by_crossing_point=[BreakdownOut.of(b) for b in found["crossing_point"]],
        by_verification=[BreakdownOut.of(b) for b in found["verification"]],
    )
