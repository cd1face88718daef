"""What a case shows in operators' lists (Temporal search attributes), and nothing personal.

An operations team looks for cases by their agreement, the two states, their kind and status,
when the next limit falls due and whether one has passed ("overdue EU-UA cases"). These values
come from the case's state alone, so the workflow can set them after each decision and an
auditor's fold gives the same answer; none of them names or describes the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.commands import OpenCase
from domain.state import CaseState
from domain.values import Status


@dataclass(frozen=True)
class CaseListing:
    """A case's listed values: `next_due` is the earliest due instant of a limit that runs and
    has not passed (None without one); `overdue` says a running limit has passed."""

    agreement: str
    requesting: str
    requested: str
    kind: str
    status: str
    next_due: datetime | None
    overdue: bool


def listing_of(state: CaseState) -> CaseListing | None:
    """The listing of the case in `state`, or None before it is opened (no terms yet)."""
    terms = state.terms
    if terms is None:
        return None
    running = [
        state.deadlines[name].due
        for name in state.open_limits
        if name in state.deadlines and name not in state.overdue
    ]
    return CaseListing(
        agreement=terms.agreement_id,
        requesting=terms.requesting,
        requested=terms.requested,
        kind=state.kind.value,
        status=state.status.value,
        next_due=min(running, default=None),
        overdue=any(name in state.open_limits for name in state.overdue),
    )


def listing_of_opening(command: OpenCase) -> CaseListing:
    """The listing a case starts with, from the command that opens it (a draft, no limit yet)."""
    terms = command.terms
    return CaseListing(
        agreement=terms.agreement_id,
        requesting=terms.requesting,
        requested=terms.requested,
        kind=command.kind.value,
        status=Status.DRAFT.value,
        next_due=None,
        overdue=False,
    )
