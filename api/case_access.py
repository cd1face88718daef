"""Who may see a case, who may issue which of its commands, and reading a case once allowed:
the checks the API's case routes and the pages share, so both always answer alike.

Both checks are judged from the case's parties (the read model, or the workflow's view of a case
not yet projected), never by folding its stream; only `load_case`, once the caller may see the
case, reads and folds the stream.
"""

from __future__ import annotations

import re

from adapters.db.case_queries import Parties
from adapters.db.eventstore import Recorded
from adapters.directory import directory_entry
from adapters.temporal.cases import CaseNotFound
from api.auth import Principal
from api.commands import Presentation
from api.problems import Problem
from api.services import Services
from domain.commands import CASE_ID_PATTERN
from domain.decider import fold
from domain.state import CaseState
from domain.values import Side


def not_found(case_id: str) -> Problem:
    """404 for a case that does not exist or that the caller may not know exists."""
    return Problem(404, "Not found", f"no case {case_id}", type_="case-not-found")


async def authorise(services: Services, caller: Principal, case_id: str) -> Parties:
    """The case's parties if the caller may see the case.

    Administrators get 403 before anything is looked up; cases of other states 404 (not 403):
    their existence is not disclosed, and neither is that of a case not yet submitted to the
    caller's state (a draft, or one withdrawn before submission, of the requesting state).
    """
    if caller.role == "admin":
        raise Problem(403, "Forbidden", "administrators manage the directory, not cases")
    try:
        parties = await services.parties(case_id)
    except CaseNotFound as missing:
        raise not_found(case_id) from missing
    if not caller.sees_case(parties.requesting, parties.requested, disclosed=parties.disclosed):
        raise not_found(case_id)
    return parties


def check_node(services: Services, caller: Principal) -> None:
    """403 on a federated node for an officer of another state: each state acts on its own
    node, and the other's commands reach it only as signed messages (docs/federation.md)."""
    node = services.settings.node_state
    if node is not None and caller.state != node:
        raise Problem(
            403,
            "Forbidden",
            f"this is {node}'s node: {caller.state}'s officers act on their own",
            type_="forbidden",
        )


def check_side(caller: Principal, parties: Parties, command: Presentation) -> Side:
    """The side the caller issues `command` on; 403 unless the caller's state is the party
    whose side issues it (for a command of either side, one of the case's parties)."""
    side = command.side
    if side is Side.EITHER:
        if caller.state == parties.requesting:
            return Side.REQUESTING
        if caller.state == parties.requested:
            return Side.REQUESTED
        raise Problem(
            403,
            "Forbidden",
            f"{command.name.replace('_', ' ')} is for the case's parties "
            f"({parties.requesting}, {parties.requested})",
            type_="forbidden",
        )
    party = parties.requesting if side is Side.REQUESTING else parties.requested
    if caller.state != party:
        raise Problem(
            403,
            "Forbidden",
            f"{command.name.replace('_', ' ')} is for the {side.value} state ({party})",
            type_="forbidden",
        )
    return side


async def check_assignee(services: Services, caller: Principal, officer: str) -> None:
    """403 unless the caller is a supervisor (officers claim, supervisors assign); 422 unless
    `officer` is an active officer or supervisor of the caller's own state in the directory."""
    if caller.role != "supervisor":
        raise Problem(
            403, "Forbidden", "a supervisor assigns a case; an officer claims it", type_="forbidden"
        )
    entry = await directory_entry(services.pool, officer)
    if entry is None or entry.role not in ("officer", "supervisor"):
        raise Problem(
            422,
            "Invalid input",
            f"{officer} is not an officer in the directory",
            type_="invalid-input",
        )
    if entry.state != caller.state:
        raise Problem(
            422,
            "Invalid input",
            f"{officer} is not an officer of {caller.state}",
            type_="invalid-input",
        )


async def load_case(
    services: Services, caller: Principal, case_id: str
) -> tuple[list[Recorded], CaseState]:
    """The case's stored events and its current state folded from them (a view shows one or
    both), once `authorise` lets the caller see it; 404 for an id that is not a case id (the
    pages take it from their path unchecked) or a case without events."""
    if not re.fullmatch(CASE_ID_PATTERN, case_id):
        raise not_found(case_id)
    await authorise(services, caller, case_id)
    recorded = await services.store.read_stream(case_id)
    if not recorded:
        raise not_found(case_id)
    return recorded, fold(r.event() for r in recorded)


# The commands of a case only a supervisor issues, each with the reason a refusal gives.
SUPERVISORS_ONLY = {
    "approve_reply": "a supervisor approves or returns a drafted reply",
    "return_reply": "a supervisor approves or returns a drafted reply",
    "acknowledge_escalation": "a supervisor acknowledges an escalation",
}


def check_supervisor(caller: Principal, detail: str) -> None:
    """403 unless the caller is a supervisor (a command of theirs alone, e.g. acknowledging an
    escalation), before the case is asked."""
    if caller.role != "supervisor":
        raise Problem(403, "Forbidden", detail, type_="forbidden")
