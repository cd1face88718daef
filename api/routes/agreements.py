"""The agreement catalogue over HTTP: list, show with sources, and the deadline calculator.

The calculator answers exactly what `readmit deadlines` prints: the same catalogue lookup
(`Catalogue.terms`) and the same `domain.deadlines.deadline_for`, dumped the same way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from adapters.agreements.catalogue import Catalogue, NotInCatalogue
from api.deps import PrincipalDep, ServicesDep
from api.problems import Problem
from domain.agreements import LIMIT_NAMES, Agreement, AgreementTerms, Suspension
from domain.calendars import UnknownState
from domain.deadlines import Deadline, DeadlineError, deadline_for
from domain.terms import EU, TermsError

router = APIRouter(
    prefix="/agreements",
    tags=["agreements"],
    responses={404: {"description": "no such agreement (problem+json)"}},
)
AgreementId = Annotated[str, Path(pattern=r"^[A-Za-z]{2,3}-[A-Za-z]{2,3}$", examples=["EU-UA"])]
StateParam = Annotated[str, Query(pattern=r"^[A-Za-z]{2}$", examples=["PL"])]
# Instants outside these years are no readmission deadline (and would overflow the calendar).
FIRST_YEAR, LAST_YEAR = 1950, 2200


class SuspensionOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    by: str
    from_: date = Field(alias="from")
    until: date | None
    reason: str


class AgreementSummary(BaseModel):
    id: str
    title: str
    parties: list[str]
    excluded_states: list[str]
    in_force: date
    tcn_obligations_from: date | None
    suspended: bool
    suspension: SuspensionOut | None
    protocols: list[str]
    unverified_limits: list[str]
    verified: bool


class AgreementList(BaseModel):
    items: list[AgreementSummary]


def invalid(field: str, message: str) -> Problem:
    """A 422 problem naming the query parameter at fault, shaped like validation errors."""
    return Problem(
        422,
        "Invalid input",
        message,
        type_="invalid-input",
        errors=[{"field": field, "in": "query", "message": message, "type": "value_error"}],
    )


def _agreement(catalogue: Catalogue, agreement_id: str) -> Agreement:
    try:
        return catalogue.agreement(agreement_id.upper())
    except NotInCatalogue as error:
        raise Problem(404, "Not found", str(error), type_="agreement-not-found") from error


def _suspension_on(agreement: Agreement, day: date) -> Suspension | None:
    current = [
        s for s in agreement.suspensions if s.from_ <= day and (s.until is None or day < s.until)
    ]
    return max(current, key=lambda s: s.from_, default=None)


def _summary(catalogue: Catalogue, agreement: Agreement, today: date) -> AgreementSummary:
    suspension = _suspension_on(agreement, today)
    return AgreementSummary(
        id=agreement.id,
        title=agreement.title,
        parties=list(agreement.parties),
        excluded_states=list(agreement.excluded_states),
        in_force=agreement.in_force,
        tcn_obligations_from=agreement.tcn_obligations_from,
        suspended=suspension is not None,
        suspension=SuspensionOut(
            by=suspension.by,
            from_=suspension.from_,
            until=suspension.until,
            reason=suspension.reason,
        )
        if suspension
        else None,
        protocols=[p.state for p in catalogue.protocols_of(agreement.id)],
        unverified_limits=sorted(n for n, lim in agreement.limits.items() if not lim.verified),
        verified=agreement.verified,
    )


@router.get("", response_model=AgreementList, summary="The agreements of the catalogue")
async def list_agreements(services: ServicesDep, _: PrincipalDep) -> AgreementList:
    today = datetime.now(UTC).date()
    catalogue = services.catalogue
    return AgreementList(items=[_summary(catalogue, a, today) for a in catalogue.list_agreements()])


@router.get(
    "/{agreement_id}",
    summary="Every parameter of an agreement (or of its terms under a protocol), with sources",
    responses={422: {"description": "no such protocol (problem+json)"}},
)
async def show_agreement(
    agreement_id: AgreementId,
    services: ServicesDep,
    _: PrincipalDep,
    protocol: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="overlay this Member State's protocol"),
    ] = None,
) -> dict[str, Any]:
    catalogue = services.catalogue
    agreement = _agreement(catalogue, agreement_id)
    shown: Agreement | AgreementTerms = agreement
    if protocol is not None:
        state = protocol.upper()
        # As `readmit agreements show --protocol`: the protocol's state against the other party.
        other = next((p for p in agreement.parties if p not in (EU, state)), state)
        try:
            shown = catalogue.terms(agreement.id, state, other, protocol_state=state)
        except (NotInCatalogue, TermsError, UnknownState) as error:
            raise invalid("protocol", str(error)) from error
    return shown.model_dump(mode="json", by_alias=True)


@router.get(
    "/{agreement_id}/deadlines",
    response_model=Deadline,
    summary="Compute one deadline exactly (the same answer as `readmit deadlines`)",
)
async def deadline(
    agreement_id: AgreementId,
    services: ServicesDep,
    _: PrincipalDep,
    limit: Annotated[
        str,
        Query(
            description=f"one of: {', '.join(LIMIT_NAMES)}",
            json_schema_extra={"enum": list(LIMIT_NAMES)},
        ),
    ],
    from_: Annotated[
        AwareDatetime,
        Query(alias="from", description="the trigger instant, with its UTC offset"),
    ],
    requesting: StateParam,
    requested: StateParam,
    protocol: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="Member State whose protocol applies"),
    ] = None,
    extended: Annotated[bool, Query(description="use the limit's extension (up_to)")] = False,
    extra_days: Annotated[int, Query(ge=0, le=3660, description="obstacle extension in days")] = 0,
) -> Deadline:
    catalogue = services.catalogue
    agreement = _agreement(catalogue, agreement_id)
    if limit not in LIMIT_NAMES:
        raise invalid("limit", f"unknown limit {limit!r}; known: {', '.join(LIMIT_NAMES)}")
    if not FIRST_YEAR <= from_.year <= LAST_YEAR:
        raise invalid("from", f"the trigger instant must lie in {FIRST_YEAR}..{LAST_YEAR}")
    requesting, requested = requesting.upper(), requested.upper()
    try:
        terms = catalogue.terms(
            agreement.id, requesting, requested, protocol.upper() if protocol else None
        )
    except NotInCatalogue as error:
        raise invalid("protocol", str(error)) from error
    except TermsError as error:
        field = "protocol" if "protocol" in error.rule else None
        raise invalid(
            field or _named_states(error.detail, requesting, requested), str(error)
        ) from error
    except UnknownState as error:
        raise invalid(_named_states(str(error), requesting, requested), str(error)) from error
    try:
        return deadline_for(terms, limit, from_, extended=extended, extra_days=extra_days)
    except DeadlineError as error:
        raise invalid(_deadline_field(str(error)), str(error)) from error


def _named_states(message: str, requesting: str, requested: str) -> str:
    """The pair's parameter(s) an error message names (both when it names neither or both)."""
    named = [
        name
        for name, code in (("requesting", requesting), ("requested", requested))
        if code in message
    ]
    return ",".join(named if len(named) == 1 else ["requesting", "requested"])


def _deadline_field(message: str) -> str:
    if "extension" in message and "up_to" not in message:
        return "extra_days"
    if "up_to" in message:
        return "extended"
    return "limit"
