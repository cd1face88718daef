"""The statistics page and its CSV: the caller's cases per agreement and counterpart state, as
bar charts, a table and a download with the same figures."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.problems import Problem
from api.web import labels
from api.web.charts import PLAIN_COLOUR, STATUS_COLOURS, Chart, Row, Segment, render_bars
from api.web.pages import Page, SignedIn, WebRoute
from api.web.stats import STATUSES, Group, StatsFilter, figures, to_csv
from domain.values import CaseKind

router = APIRouter(route_class=WebRoute, include_in_schema=False)
DEEMED_COLOUR = "#66a23a"
OVERDUE_COLOUR = "#b00020"


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise Problem(422, "Invalid input", f"{name}: not a date: {text}") from error


def stats_filter(page: Page) -> tuple[StatsFilter, dict[str, str]]:
    caller = page.principal
    if caller.role == "admin":
        raise Problem(403, "Forbidden", "administrators manage the directory, not cases")
    params = page.request.query_params
    agreement = (params.get("agreement") or "").strip().upper() or None
    if agreement and not re.fullmatch(r"[A-Z]{2,3}-[A-Z]{2,3}", agreement):
        raise Problem(422, "Invalid input", f"agreement: not an agreement id: {agreement}")
    zone = ZoneInfo(page.zone)
    first, last = _day(params.get("from"), "from"), _day(params.get("to"), "to")
    start = datetime.combine(first, time(), zone) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), zone) if last else None
    kind = params.get("kind") or CaseKind.READMISSION.value
    if kind not in {k.value for k in CaseKind}:
        raise Problem(422, "Invalid input", f"kind: readmission or transit, not {kind}")
    shown = {
        "kind": kind,
        "agreement": agreement or "",
        "from": params.get("from", ""),
        "to": params.get("to", ""),
    }
    return StatsFilter(caller.states, agreement, start, end, kind), shown


def group_label(page: Page, group: Group) -> str:
    if group.is_total:
        return page._("All")
    return f"{group.agreement} · {group.counterpart}"


def charts(page: Page, groups: list[Group], kind: str = "readmission") -> list[tuple[str, str]]:
    """(title, SVG) of each chart."""
    _, fmt = page._, page.fmt
    deemed = _("Deemed consents") if kind == CaseKind.TRANSIT else _("Deemed acceptances")
    rows = [g for g in groups if not g.is_total] or groups
    status_rows = [
        Row(
            group_label(page, g),
            [
                Segment(
                    g.by_status.get(s, 0),
                    STATUS_COLOURS[s],
                    f"{_(labels.label('status', s))}: {g.by_status.get(s, 0)}",
                )
                for s in STATUSES
            ],
            str(g.cases),
        )
        for g in rows
    ]
    used = [s for s in STATUSES if any(g.by_status.get(s) for g in rows)]
    median_rows = [
        Row(
            group_label(page, g),
            [Segment(g.median_reply_days or 0, PLAIN_COLOUR)],
            "—" if g.median_reply_days is None else f"{fmt.number(g.median_reply_days)} d",
        )
        for g in rows
    ]
    share_rows = [
        Row(
            group_label(page, g),
            [Segment((g.share_within_limit or 0) * 100, PLAIN_COLOUR)],
            "—" if g.share_within_limit is None else fmt.percent(g.share_within_limit),
        )
        for g in rows
    ]
    late_rows = [
        Row(
            group_label(page, g),
            [
                Segment(g.deemed, DEEMED_COLOUR, f"{deemed}: {g.deemed}"),
                Segment(
                    g.overdue_transfers,
                    OVERDUE_COLOUR,
                    f"{_('Overdue transfers')}: {g.overdue_transfers}",
                ),
            ],
            f"{g.deemed} / {g.overdue_transfers}",
        )
        for g in rows
    ]
    empty = _("No cases")
    longest = max((g.median_reply_days or 0 for g in rows), default=0)
    found = [
        Chart(
            _("Cases by status"),
            status_rows,
            legend=[(_(labels.label("status", s)), STATUS_COLOURS[s]) for s in used],
            empty=empty,
        ),
        Chart(
            _("Median reply time (days)"),
            median_rows,
            max_value=max(longest, 1.0),  # at least a day, or minutes fill the chart
            empty=empty,
        ),
        Chart(_("Replies within the limit"), share_rows, max_value=100, empty=empty),
        Chart(
            _("Deemed acceptances and overdue transfers"),
            late_rows,
            legend=[
                (deemed, DEEMED_COLOUR),
                (_("Overdue transfers"), OVERDUE_COLOUR),
            ],
            empty=empty,
        ),
    ]
    idents = ("chart-status", "chart-median", "chart-share", "chart-late")
    return [(c.title, render_bars(c, ident=i)) for c, i in zip(found, idents, strict=True)]


@router.get("/ui/stats", response_class=HTMLResponse)
async def statistics(page: SignedIn) -> HTMLResponse:
    selection, shown = stats_filter(page)
    groups = await figures(page.services.pool, selection)
    agreements = [a.id for a in page.services.catalogue.list_agreements()]
    return page.render(
        "stats.html",
        groups=groups,
        charts=charts(page, groups, selection.kind),
        statuses=[s for s in STATUSES if any(g.by_status.get(s) for g in groups)],
        shown=shown,
        agreements=agreements,
        query=str(page.request.url.query),
    )


@router.get("/ui/stats.csv")
async def statistics_csv(page: SignedIn) -> Response:
    selection, _ = stats_filter(page)
    groups = await figures(page.services.pool, selection)
    stamp = datetime.now(ZoneInfo(page.zone)).strftime("%Y%m%d")
    return Response(
        to_csv(groups, selection.kind),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="readmit-statistics-{stamp}.csv"'},
    )
