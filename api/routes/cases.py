"""Cases: open, list, read, and every command of the catalogue (api/commands.py) as its own
endpoint, made from the catalogue's row.

A caller sees only cases in which its state is a party (auditors: the states they audit); an
officer or supervisor may only issue the commands of its own side. Both are judged from the
case's parties, not from its folded stream (api/case_access.py, which the pages share).
Commands run through the case workflow (Temporal update): a refused command answers 409 with the
domain error's type.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Header, Path, Query, Request
from pydantic import AwareDatetime, BaseModel

from adapters.agreements.catalogue import NotInCatalogue
from adapters.db.case_queries import Assigned, BadCursor, CaseFilter, list_cases
from adapters.temporal.case_numbers import CaseNumbersExhausted, fresh_case_id
from api.auth import Principal
from api.case_access import (
    SUPERVISORS_ONLY,
    authorise,
    check_assignee,
    check_node,
    check_side,
    check_supervisor,
    load_case,
    not_found,
)
from api.command_bodies import AssignBody, OpenCaseBody
from api.commands import (
    ASSIGNMENT_COMMANDS,
    CASE_COMMANDS,
    ESCALATION_COMMANDS,
    OPEN_CASE,
    REPLY_APPROVAL_COMMANDS,
    Caller,
    Presentation,
)
from api.deps import PrincipalDep, ServicesDep, WriterDep
from api.disclosure import record as disclose
from api.disclosure import record_shown
from api.exchange_view import exchange_record
from api.idempotency import idempotent
from api.person_search import disclose_earlier, earlier_cases
from api.problems import Problem
from api.reply_approval import reply_or_draft
from api.reply_draft_view import visible_events
from api.routes.federation import not_a_node
from api.services import Services
from api.views import case_detail, case_summary, history_view
from domain.commands import CASE_ID_PATTERN, DraftReply, OpenCase
from domain.decider import fold
from domain.values import CaseKind, Status
from workflows.contracts import Actor

router = APIRouter(
    prefix="/cases",
    tags=["cases"],
    responses={
        403: {"description": "not the caller's role or side (problem+json)"},
        404: {"description": "no such case, or not one of the caller's (problem+json)"},
        409: {"description": "the case refuses the command, or a conflict (problem+json)"},
    },
)
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="repeat a request safely: same key, same answer"),
]
CaseId = Annotated[str, Path(pattern=CASE_ID_PATTERN, examples=["PL-UA-2027-000123"])]


class EventOut(BaseModel):
    type: str
    version: int
    at: datetime


class SendingOut(BaseModel):
    """A command on its way to the other node of a shared case (docs/federation.md): it takes
    effect on both once that node's signed receipt is back."""

    message_id: UUID
    seq: int
    recipient: str


class CommandResponse(BaseModel):
    case_id: str
    status: str
    version: int
    events: list[EventOut]
    sending: SendingOut | None = None
    # "awaiting": the reply was recorded as a draft, for a supervisor's approval
    approval: Literal["awaiting"] | None = None


def actor(caller: Principal) -> Actor:
    assert caller.state is not None
    return Actor(user_id=caller.user_id, state=caller.state, role=caller.role)


def update_id(caller: Principal, key: str | None) -> str | None:
    """The Temporal update id for an idempotent request: the same key gives the same update."""
    return f"{caller.user_id}:{key}" if key else None


async def once(
    services: Services,
    caller: Principal,
    key: str | None,
    request: Request,
    body: BaseModel,
    run: Any,
) -> Any:
    """Run a POST once per Idempotency-Key (see api/idempotency.py)."""
    return await idempotent(
        services.pool,
        caller,
        key,
        "POST",
        request.url.path,
        body.model_dump(mode="json"),
        run,
        hash_key=services.idempotency_key,
    )


def _response(result: Any) -> dict[str, Any]:
    return CommandResponse(
        case_id=result.case_id,
        status=result.status,
        version=result.version,
        events=[EventOut(type=e.type, version=e.version, at=e.at) for e in result.events],
        sending=SendingOut(**result.sending.model_dump()) if result.sending else None,
    ).model_dump(mode="json", exclude_none=True)


class EarlierCase(BaseModel):
    """Another case of the same person (same document number, or surname and birth date)."""

    case_id: str
    status: str
    opened_at: str
    reasons: list[str]


class OpenCaseResponse(CommandResponse):
    earlier_cases: list[EarlierCase] = []  # the person search's warning (issue 17)


@router.post(
    OPEN_CASE.path, status_code=201, response_model=OpenCaseResponse, summary=OPEN_CASE.help
)
async def open_case(
    body: OpenCaseBody,
    request: Request,
    services: ServicesDep,
    caller: WriterDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    assert caller.state is not None
    check_node(services, caller)
    try:
        terms = services.catalogue.terms(
            body.agreement.upper(), caller.state, body.requested, body.protocol
        )
    except (NotInCatalogue, ValueError) as error:
        raise Problem(422, "Invalid input", str(error), type_="invalid-input") from error

    async def run() -> tuple[int, Any]:
        now = datetime.now(UTC)
        try:  # a number no workflow in Temporal has (issue 18: restored databases)
            case_id = await fresh_case_id(
                services.pool, services.gateway.client, caller.state or "", body.requested, now.year
            )
        except CaseNumbersExhausted as error:
            raise Problem(503, "No case number", str(error), type_="case-numbers") from error
        command = OpenCase(
            at=now,
            case_id=case_id,
            terms=terms,
            category=body.category,
            procedure=body.procedure,
            person=body.person,
            evidence=tuple(body.evidence),
            knowledge_at=body.knowledge_at,
            apprehended_at=body.apprehended_at,
            apprehension_place=body.apprehension_place,
            kind=body.kind,
            transit=body.transit,
        )
        # same person, earlier case: looked up before opening (a read, failing before anything
        # is written), with the person as given; logged once the answer shows it
        earlier = await earlier_cases(
            services, caller, body.person, body.evidence, case_id=case_id, endpoint=None
        )
        result = await services.gateway.open(
            command, actor(caller), request_id=update_id(caller, idempotency_key)
        )
        await services.projector.catch_up()
        await disclose_earlier(services, caller, earlier, endpoint="POST /cases")
        return 201, {**_response(result), "earlier_cases": earlier}

    return await once(services, caller, idempotency_key, request, body, run)


@router.get("", summary="List the caller's cases (overdue first, then by next deadline)")
async def list_(
    services: ServicesDep,
    caller: PrincipalDep,
    side: Literal["requesting", "requested"] | None = None,
    status: Annotated[list[Status] | None, Query(max_length=20)] = None,
    agreement: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2,3}-[A-Za-z]{2,3}$")] = None,
    counterpart: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    overdue: bool | None = None,
    due_before: AwareDatetime | None = None,
    q: Annotated[str | None, Query(max_length=40, pattern=r"^[A-Z0-9-]+$")] = None,
    kind: CaseKind | None = None,
    assigned: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=r"^[A-Za-z0-9._@-]+$",
            description="me | unassigned | an officer's user id (supervisors): by the assignee "
            "on the caller's side",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    awaiting_approval: Annotated[
        bool | None,
        Query(
            description="true: the cases whose reply, drafted on the caller's requested side, "
            "awaits a supervisor's approval (the requesting state never sees a draft: none)",
        ),
    ] = None,
) -> dict[str, Any]:
    if caller.role == "admin":
        raise Problem(403, "Forbidden", "administrators manage the directory, not cases")
    filters = CaseFilter(
        states=caller.states,
        side=side,
        status=tuple(s.value for s in status or ()),
        agreement=agreement.upper() if agreement else None,
        counterpart=counterpart,
        overdue=overdue,
        due_before=due_before,
        prefix=q,
        kind=kind.value if kind else None,
        assigned=_assigned(caller, assigned) if assigned is not None else None,
        awaiting_approval=awaiting_approval,
    )
    try:
        rows, following = await list_cases(services.pool, filters, limit=limit, cursor=cursor)
    except BadCursor as error:
        raise Problem(422, "Invalid input", str(error), type_="invalid-input") from error
    if rows:  # each row shows a person summary: one disclosure naming every case listed
        await record_shown(
            services.pool,
            caller,
            [r["case_id"] for r in rows],
            purpose="case list",
            endpoint="GET /cases",
        )
    return {"items": [case_summary(r, caller) for r in rows], "next_cursor": following}


def _assigned(caller: Principal, assigned: str) -> Assigned:
    """The `assigned` filter on the caller's side: `me`, `unassigned`, or an officer's user id
    (a supervisor's view of one officer's cases; an officer may name only themselves)."""
    if not caller.can_write or caller.state is None:
        raise Problem(
            403,
            "Forbidden",
            "assigned filters by the caller's own side: for officers and supervisors",
            type_="forbidden",
        )
    if assigned == "unassigned":
        return Assigned(caller.state, None)
    who = caller.user_id if assigned == "me" else assigned
    if who != caller.user_id and caller.role != "supervisor":
        raise Problem(
            403, "Forbidden", "a supervisor lists another officer's cases", type_="forbidden"
        )
    return Assigned(caller.state, who)


@router.get("/{case_id}", summary="One case, with its deadlines and what the caller may do")
async def get_case(case_id: CaseId, services: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    _, state = await load_case(services, caller, case_id)
    await disclose(services.pool, caller, case_id, purpose="case view", endpoint="GET /cases/{id}")
    return case_detail(await services.vault.reveal(state), caller)


@router.get(
    "/{case_id}/exchange",
    summary="A shared case's messages with the other node: sent, received, receipted, refused",
)
async def exchange(case_id: CaseId, services: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    """What this node sent the other about the case and what it received, each with its
    receipt (when, outcome, refusal code), and what is still on its way (docs/federation.md).
    404 on a node that is not federated."""
    if services.inbound is None:
        raise not_a_node()
    await authorise(services, caller, case_id)
    record = await exchange_record(services, case_id)
    assert record is not None
    return record


@router.get("/{case_id}/events", summary="The case's event stream, with actors")
async def events(case_id: CaseId, services: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    parties = await authorise(services, caller, case_id)
    recorded = await services.store.read_stream(case_id)
    if not recorded:
        raise not_found(case_id)
    await disclose(
        services.pool, caller, case_id, purpose="history", endpoint="GET /cases/{id}/events"
    )
    sealers = await services.vault.sealers([case_id])
    # a drafted reply and its return: the requested state's own (api.reply_draft_view)
    return history_view(visible_events(recorded, caller, parties.requested), sealers[case_id])


@router.get("/{case_id}/state", summary="The case's state folded up to an instant or a version")
async def state_as_of(
    case_id: CaseId,
    services: ServicesDep,
    caller: PrincipalDep,
    as_of: AwareDatetime | None = None,
    version: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    if as_of is not None and version is not None:
        raise Problem(
            422, "Invalid input", "give as_of or version, not both", type_="invalid-input"
        )
    await authorise(services, caller, case_id)
    recorded = await services.store.read_stream_as_of(case_id, at=as_of, version=version)
    state = fold(r.event() for r in recorded)
    await disclose(
        services.pool, caller, case_id, purpose="replay", endpoint="GET /cases/{id}/state"
    )
    return {
        "as_of": as_of,
        "version": state.version,
        "state": case_detail(await services.vault.reveal(state), caller) if state.opened else None,
    }


@router.get("/{case_id}/verify", summary="Recompute the case's hash chain")
async def verify(case_id: CaseId, services: ServicesDep, caller: PrincipalDep) -> dict[str, Any]:
    await authorise(services, caller, case_id)
    result = await services.store.verify(case_id)
    return {
        "case_id": case_id,
        "ok": result.ok,
        "checked": result.checked,
        "first_broken_version": result.first_broken_version,
        "reason": result.reason,
    }


def _register_command(command: Presentation) -> None:
    """`POST /cases/{case_id}<path>` for one command of the catalogue (api/commands.py)."""

    async def endpoint(
        case_id: CaseId,
        body: command.body,  # type: ignore[name-defined]
        request: Request,
        services: ServicesDep,
        caller: WriterDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        check_node(services, caller)
        side = check_side(caller, await authorise(services, caller, case_id), command)
        if only := SUPERVISORS_ONLY.get(command.name):
            check_supervisor(caller, only)
        if isinstance(body, AssignBody):
            await check_assignee(services, caller, body.officer)
        issued = command.build(datetime.now(UTC), body, Caller(caller.user_id, side))
        issued = await reply_or_draft(services, caller, case_id, issued)

        async def run() -> tuple[int, Any]:
            result = await services.gateway.execute(
                case_id, issued, actor(caller), request_id=update_id(caller, idempotency_key)
            )
            await services.projector.catch_up()
            if isinstance(issued, DraftReply):  # awaiting a supervisor's approval
                return 202, _response(result) | {"approval": "awaiting"}
            # on its way to the other node: accepted here, in effect once receipted
            return (202 if result.sending else 200), _response(result)

        return await once(services, caller, idempotency_key, request, body, run)

    endpoint.__name__ = command.name
    router.add_api_route(
        f"/{{case_id}}{command.path}",
        endpoint,
        methods=["POST"],
        response_model=CommandResponse,
        summary=command.help,
    )


for _command in (
    *CASE_COMMANDS,
    *ASSIGNMENT_COMMANDS,
    *REPLY_APPROVAL_COMMANDS,
    *ESCALATION_COMMANDS,
):
    _register_command(_command)
