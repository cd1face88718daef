"""The dashboard: the caller's cases from the read model (the API's own list query and row view),
grouped by urgency (overdue, due within two working days of the deadline's calendar, the rest),
with the action each case waits for; and the fragment the page polls for live updates."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from adapters.db.case_queries import Assigned, BadCursor, CaseFilter, list_cases
from api.auth import Principal
from api.disclosure import record_shown
from api.problems import Problem
from api.views import case_summary
from api.web.pages import Page, SignedIn, WebRoute
from domain.actions import expected_actions
from domain.calendars import UnknownState
from domain.deadlines import DeadlineError, nth_working_day_after
from domain.state import CaseState
from domain.values import CaseKind, Side, Status

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE_SIZE = 100
SOON_WORKING_DAYS = 2
URGENCIES = ("overdue", "soon", "later")


@dataclass(frozen=True)
class DashboardRow:
    case: dict[str, Any]  # the API's list row (`case_summary`)
    urgency: str
    zone: str
    waiting_state: str | None
    waiting_action: str | None
    your_move: bool


def urgency(row: dict[str, Any], deadlines: dict[str, Any], now: datetime) -> tuple[str, str]:
    """('overdue' | 'soon' | 'later', the deadline's zone): 'soon' = due by the end of the
    second working day after today in the deadline's own calendar and time zone."""
    limit = row["next_limit"]
    deadline = deadlines.get(limit) or {} if limit else {}
    zone = deadline.get("time_zone") or "UTC"
    if row["overdue"]:
        return "overdue", zone
    if not row["next_due"]:
        return "later", zone
    due = datetime.fromisoformat(row["next_due"])
    if due < now:
        return "overdue", zone  # passed; the workflow's escalation is on its way
    local = ZoneInfo(zone)
    today = now.astimezone(local).date()
    states = tuple(s for s in str(deadline.get("calendar") or "").split("+") if s)
    try:
        horizon = nth_working_day_after(states, today, SOON_WORKING_DAYS) if states else None
    except (UnknownState, DeadlineError):
        horizon = None
    horizon = horizon or today + timedelta(days=SOON_WORKING_DAYS)
    return ("soon" if due.astimezone(local).date() <= horizon else "later"), zone


def awaited(
    status: str,
    open_limits: list[str],
    requesting: str,
    requested: str,
    kind: str = CaseKind.READMISSION.value,
) -> tuple[str | None, str | None]:
    """(state, action) the case waits for: the first action its status allows; a received case
    waits for a reply, a transferred one for closing (an error claim is a right, not a wait); a
    transit case (docs/transit.md) by its own table."""
    state = CaseState(status=Status(status), open_limits=tuple(open_limits), kind=CaseKind(kind))
    actions = expected_actions(state)
    if status == Status.TRANSFERRED:
        actions = tuple(a for a in actions if a[1] != "claim_error")
    if not actions:
        return None, None
    side, action = actions[0]
    if status == Status.RECEIVED and side is Side.REQUESTED and not state.is_transit:
        action = "reply"
    return (requesting if side is Side.REQUESTING else requested), action


def dashboard_rows(records: list[Any], caller: Principal, now: datetime) -> list[DashboardRow]:
    rows = []
    for record in records:
        summary = case_summary(record, caller)
        level, zone = urgency(summary, record["deadlines"], now)
        state, action = awaited(
            record["status"],
            list(record["open_limits"]),
            record["requesting"],
            record["requested"],
            record["kind"],
        )
        rows.append(
            DashboardRow(
                case=summary,
                urgency=level,
                zone=zone,
                waiting_state=state,
                waiting_action=action,
                your_move=caller.can_write and state is not None and state == caller.state,
            )
        )
    return rows


def digest(rows: list[DashboardRow]) -> str:
    """Changes when any listed case changes (the poller swaps the rows only then)."""
    text = "|".join(f"{r.case['case_id']}:{r.case['version']}:{r.urgency}" for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    status: str | None = None
    side: str | None = None
    agreement: str | None = None
    counterpart: str | None = None
    overdue: bool = False
    cursor: str | None = None
    # by the assignee on the caller's side (issue 17): me | unassigned | an officer's user id
    assigned: str | None = None
    # `approval`: the replies drafted on the caller's requested side awaiting approval (issue 17)
    awaiting: str | None = None

    @classmethod
    def from_request(cls, request: Request) -> tuple[Filters, list[str]]:
        """The filters of the query string, and what was wrong with it (ignored, said)."""
        params, problems = request.query_params, []

        def pick(name: str, ok: Any, normal: Any = str) -> Any:
            raw = (params.get(name) or "").strip()
            if not raw:
                return None
            value = normal(raw)
            if ok(value):
                return value
            problems.append(name)
            return None

        return (
            cls(
                q=pick("q", lambda v: re.fullmatch(r"[A-Z0-9-]{1,40}", v), str.upper),
                status=pick("status", lambda v: v in {s.value for s in Status}),
                side=pick("side", lambda v: v in ("requesting", "requested")),
                agreement=pick(
                    "agreement", lambda v: re.fullmatch(r"[A-Z]{2,3}-[A-Z]{2,3}", v), str.upper
                ),
                counterpart=pick("counterpart", lambda v: re.fullmatch(r"[A-Z]{2}", v), str.upper),
                overdue=params.get("overdue") in ("1", "on", "true"),
                cursor=pick("cursor", lambda v: len(v) <= 400),
                assigned=pick("assigned", lambda v: re.fullmatch(r"[A-Za-z0-9._@-]{1,100}", v)),
                awaiting=pick("awaiting", lambda v: v == "approval"),
            ),
            problems,
        )

    def query(self, **changes: Any) -> str:
        values = {**self.__dict__, **changes}
        values["overdue"] = "1" if values["overdue"] else None
        return urlencode({k: v for k, v in values.items() if v})


async def _load(page: Page, filters: Filters) -> tuple[list[DashboardRow], str | None, str | None]:
    caller = page.principal
    if caller.role == "admin":
        raise Problem(403, "Forbidden", "administrators manage the directory, not cases")
    query = CaseFilter(
        states=caller.states,
        side=filters.side,  # type: ignore[arg-type]
        status=(filters.status,) if filters.status else (),
        agreement=filters.agreement,
        counterpart=filters.counterpart,
        overdue=True if filters.overdue else None,
        prefix=filters.q,
        assigned=assigned_filter(caller, filters.assigned),
        awaiting_approval=True if filters.awaiting == "approval" else None,
    )
    try:
        records, following = await list_cases(
            page.services.pool, query, limit=PAGE_SIZE, cursor=filters.cursor
        )
        problem = None
    except BadCursor:
        records, following = await list_cases(page.services.pool, query, limit=PAGE_SIZE)
        problem = "cursor"
    return dashboard_rows(records, caller, datetime.now(UTC)), following, problem


def assigned_filter(caller: Principal, assigned: str | None) -> Assigned | None:
    """The page's assignee filter on the caller's own side: their cases (`me`), their team's
    unassigned ones, or (supervisors) one officer's. Auditors, and officers naming another
    officer, get no filter: the page then shows what it shows without one."""
    if assigned is None or not caller.can_write or caller.state is None:
        return None
    if assigned == "unassigned":
        return Assigned(caller.state, None)
    if assigned in ("me", caller.user_id):
        return Assigned(caller.state, caller.user_id)
    return Assigned(caller.state, assigned) if caller.role == "supervisor" else None


def _groups(rows: list[DashboardRow]) -> list[tuple[str, list[DashboardRow]]]:
    return [(u, [r for r in rows if r.urgency == u]) for u in URGENCIES]


async def _disclose(page: Page, rows: list[DashboardRow], endpoint: str) -> None:
    """One disclosure for the page: its rows show each case's person summary."""
    if rows:
        await record_shown(
            page.services.pool,
            page.principal,
            [row.case["case_id"] for row in rows],
            purpose="dashboard",
            endpoint=endpoint,
        )


async def _workload(page: Page) -> Any:
    """The workload per officer (`api.workload`) for a supervisor or an auditor of one state;
    None for everyone else (the page then has no such section)."""
    # imported here: api.workload counts with this module's urgency groups
    from api.workload import workload, workload_state

    try:
        state = workload_state(page.principal, None)
    except Problem:
        return None
    return await workload(page.services.pool, state, datetime.now(UTC))


@router.get("/ui/", response_class=HTMLResponse)
async def dashboard(page: SignedIn) -> HTMLResponse:
    filters, problems = Filters.from_request(page.request)
    rows, following, bad_cursor = await _load(page, filters)
    await _disclose(page, rows, "GET /ui/")
    if filters.assigned and assigned_filter(page.principal, filters.assigned) is None:
        problems.append("assigned")
    return page.render(
        "dashboard.html",
        workload=await _workload(page),
        filters=filters,
        problems=problems + ([bad_cursor] if bad_cursor else []),
        groups=_groups(rows),
        rows=rows,
        digest=digest(rows),
        following=following,
        agreements=[a.id for a in page.services.catalogue.list_agreements()],
        statuses=[s.value for s in Status],
    )


@router.get("/ui/dashboard/rows", response_class=HTMLResponse, response_model=None)
async def dashboard_fragment(page: SignedIn) -> Response:
    """The case groups alone, for the page's live updates: 204 while they are what the page
    shows (`since`, the digest it has), so a page left open is not a disclosure every poll."""
    filters, _ = Filters.from_request(page.request)
    rows, following, _ = await _load(page, filters)
    if page.request.query_params.get("since") == digest(rows):
        return Response(status_code=204)
    await _disclose(page, rows, "GET /ui/dashboard/rows")
    return page.render(
        "dashboard_groups.html",
        filters=filters,
        groups=_groups(rows),
        rows=rows,
        digest=digest(rows),
        following=following,
    )
