"""A state's workload per officer (issue 17): how many open cases each of its officers holds on
the state's side, and how many of those are overdue or due soon, plus the side's unassigned
cases. Supervisors and auditors of the state see it (the API's `GET /workload`, the dashboard's
workload section, `readmit workload`); officers do not.

"Overdue" and "due soon" are the dashboard's own urgency groups (`api.web.dashboard.urgency`):
overdue when a limit of the case has passed (or its next deadline lies in the past); due soon
when its next deadline ends by the close of the second working day after today, counted in the
deadline's own calendar and time zone. A case counts in exactly one of overdue, due soon or
later."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from adapters.db.case_queries import workload_rows
from adapters.directory import TeamMember, team
from api.auth import ALL_STATES, Principal
from api.problems import Problem
from api.web.dashboard import SOON_WORKING_DAYS, urgency

WORKLOAD_ROLES = ("supervisor", "auditor")


@dataclass
class Load:
    """One officer's open cases on the state's side (`officer` None: the unassigned ones)."""

    officer: str | None
    role: str | None = None
    display_name: str | None = None
    active: bool = True
    cases: int = 0
    overdue: int = 0
    due_soon: int = 0


@dataclass(frozen=True)
class Workload:
    state: str
    at: datetime
    soon_working_days: int
    officers: list[Load]
    unassigned: Load
    # open cases whose reply, drafted on the state's requested side, awaits a supervisor's
    # approval: the state's own drafts only (a requesting state never learns of one)
    awaiting_approval: int = 0


def workload_state(caller: Principal, requested: str | None) -> str:
    """The state whose workload `caller` asks for: their own (supervisors), the one auditor's
    state or the one they name; 403 for officers and administrators, or a state not theirs."""
    if caller.role not in WORKLOAD_ROLES:
        raise Problem(
            403,
            "Forbidden",
            "the workload per officer is for the state's supervisors and auditors",
            type_="forbidden",
        )
    mine = sorted(s for s in caller.states if s != ALL_STATES)
    state = requested or (caller.state if caller.role == "supervisor" else None)
    if state is None and len(mine) == 1:
        state = mine[0]
    if state is None:
        raise Problem(422, "Invalid input", "name the state: ?state=XX", type_="invalid-input")
    if not caller.sees_state(state) or (caller.role == "supervisor" and state != caller.state):
        raise Problem(403, "Forbidden", f"not a state of yours: {state}", type_="forbidden")
    return state


async def workload(pool: asyncpg.Pool, state: str, now: datetime) -> Workload:
    """The open cases of `state` per assignee on its side, from the read model and directory."""
    return tally(state, await team(pool, state), await workload_rows(pool, state), now)


def tally(
    state: str, members: Sequence[TeamMember], rows: Sequence[Any], now: datetime
) -> Workload:
    """Count `rows` (`workload_rows`) per assignee: every active officer and supervisor of
    `members` listed (with none), assignees no longer in the directory kept (`active` false)."""
    loads = {m.user_id: Load(m.user_id, m.role, m.display_name) for m in members}
    unassigned = Load(None)
    awaiting = 0
    for row in rows:
        awaiting += bool(row.get("awaiting_approval"))
        who = row["assignee"]
        load = unassigned if who is None else loads.setdefault(who, Load(who, active=False))
        due = row["next_due"]
        summary = {
            "next_limit": row["next_limit"],
            "next_due": due.isoformat() if due is not None else None,
            "overdue": row["overdue"],
        }
        level, _ = urgency(summary, row["deadlines"] or {}, now)
        load.cases += 1
        load.overdue += level == "overdue"
        load.due_soon += level == "soon"
    officers = sorted(loads.values(), key=lambda load: load.officer or "")
    return Workload(state, now, SOON_WORKING_DAYS, officers, unassigned, awaiting)
