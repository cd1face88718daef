"""The case page's "Assignment" section: who works on the case for each side, and what the
signed-in caller may do about their own side: claim it while nobody holds it, release it while
they hold it, and (supervisors) assign it to an officer of their state.

The forms post to the page's action route like the case's other commands
(`api.web.case_page.case_action`), which calls the API's own endpoint: whether a claim or an
assignment stands is the API's and the workflow's judgement, and a refusal comes back as the
page's error. The page only leaves out what would surely be refused: nothing for auditors and
administrators, nothing on a closed case, nothing on a federated node for another state's
officers. On a federated node each side's assignment stays on its own node
(`CommandKind.local`), so the other side's assignee is not known there and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from adapters.directory import officers_of
from api.commands import ASSIGNMENT_COMMANDS, PRESENTED, Field
from api.web.i18n import N_
from api.web.pages import Page
from domain.state import CaseState
from domain.values import Side

ASSIGNMENT = frozenset(command.name for command in ASSIGNMENT_COMMANDS)
NOTICES = {
    "claim_case": N_("The case is now assigned to you."),
    "release_case": N_("You released the case: your side has no assignee now."),
    "assign_case": N_("The case is now assigned to %(officer)s."),
}


@dataclass(frozen=True)
class Holder:
    """One side of the case and who holds it (`known` is False for the other node's side)."""

    side: str
    state: str
    assignee: str | None
    name: str | None
    known: bool
    yours: bool


@dataclass(frozen=True)
class AssignmentView:
    """What the section shows: each side's holder, the caller's buttons (`claim_case`,
    `release_case`) and, for a supervisor, the "Assign to" choice."""

    holders: tuple[Holder, ...]
    offers: tuple[str, ...]
    assign: Field | None


async def assignment_view(page: Page, state: CaseState, detail: dict[str, Any]) -> AssignmentView:
    """The section for `page`'s caller on the case `detail` shows (`state` gives its parties)."""
    caller = page.principal
    terms = state.terms
    assert terms is not None
    node = page.services.settings.node_state
    parties = {Side.REQUESTING.value: terms.requesting, Side.REQUESTED.value: terms.requested}
    own = next((side for side, code in parties.items() if code == caller.state), None)
    acts = (
        caller.can_write
        and own is not None
        and detail["status"] != "closed"
        and (node is None or node == caller.state)
    )
    colleagues = []
    if acts and caller.state is not None:
        colleagues = await officers_of(page.services.pool, caller.state)
    names = {c.user_id: c.display_name for c in colleagues}
    assignees: dict[str, str | None] = detail["assignees"]
    holders = tuple(
        Holder(
            side=side,
            state=code,
            assignee=assignees.get(side),
            name=names.get(assignees.get(side) or ""),
            known=node is None or node == code,
            yours=side == own and assignees.get(side) == caller.user_id,
        )
        for side, code in parties.items()
    )
    if not acts or own is None:
        return AssignmentView(holders, (), None)
    current = assignees.get(own)
    offers = ("claim_case",) if current is None else ()
    if current is not None and current == caller.user_id:
        offers = ("release_case",)
    choices = tuple(
        (c.user_id, f"{c.display_name} ({c.user_id})") for c in colleagues if c.user_id != current
    )
    assign = None
    if caller.role == "supervisor" and choices:
        assign = replace(PRESENTED["assign_case"].fields[0], options=choices)
    return AssignmentView(holders, offers, assign)


def assignment_notice(page: Page, action: str, officer: str | None) -> str:
    """What the page says once `action` is recorded (`officer`: the one assigned)."""
    return page._(NOTICES[action]) % {"officer": officer or ""}
