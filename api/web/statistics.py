"""The statistics page and its CSV: the caller's cases per agreement and counterpart state, as
bar charts, a table and a download with the same figures."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.problems import Problem
from api.web import labels
from api.web.charts import PLAIN_COLOUR, STATUS_COLOURS, Chart, Row, Segment, render_bars
from api.web.pages import Page, SignedIn, WebRoute
from api.web.stats import (
    DIMENSIONS,
    STATUSES,
    Group,
    StatsFilter,
    breakdowns,
    breakdowns_csv,
    figures,
    parse_day,
    stats_filter,
    to_csv,
)
from domain.values import CaseKind

router = APIRouter(route_class=WebRoute, include_in_schema=False)
DEEMED_COLOUR = "#66a23a"
OVERDUE_COLOUR = "#b00020"


def page_filter(page: Page) -> tuple[StatsFilter, dict[str, str]]:
    """The selection from the page's query (`stats.stats_filter`), and the values to show."""
    params = page.request.query_params
    if page.principal.role == "admin":  # before anything in the query is looked at
        raise Problem(403, "Forbidden", "administrators manage the directory, not cases")
    first, last = parse_day(params.get("from"), "from"), parse_day(params.get("to"), "to")
    kind = params.get("kind") or CaseKind.READMISSION.value
    selection = stats_filter(
        page.principal, agreement=params.get("agreement"), first=first, last=last, kind=kind
    )
    shown = {
        "kind": kind,
        "agreement": selection.agreement or "",
        "from": params.get("from", ""),
        "to": params.get("to", ""),
    }
    return selection, shown


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
    selection, shown = page_filter(page)
    groups = await figures(page.services.pool, selection)
    found = await breakdowns(page.services.pool, selection)
    agreements = [a.id for a in page.services.catalogue.list_agreements()]
    return page.render(
        "stats.html",
        groups=groups,
        charts=charts(page, groups, selection.kind),
        statuses=[s for s in STATUSES if any(g.by_status.get(s) for g in groups)],
        shown=shown,
        breakdowns=[(d, found[d]) for d in DIMENSIONS],
        agreements=agreements,
        query=str(page.request.url.query),
    )


@router.get("/ui/stats.csv")
async def statistics_csv(page: SignedIn) -> Response:
    """The figures per agreement and counterpart; with `table=breakdowns`, the breakdowns per
    month, procedure, crossing point and verification outcome."""
    selection, _ = page_filter(page)
    table = page.request.query_params.get("table") or "figures"
    if table not in ("figures", "breakdowns"):
        raise Problem(422, "Invalid input", f"table: figures or breakdowns, not {table}")
    if table == "breakdowns":
        text = breakdowns_csv(await breakdowns(page.services.pool, selection), selection.kind)
    else:
        text = to_csv(await figures(page.services.pool, selection), selection.kind)
    stamp = datetime.now(ZoneInfo(page.zone)).strftime("%Y%m%d")
    name = "statistics" if table == "figures" else "statistics-breakdowns"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="readmit-{name}-{stamp}.csv"'},
    )
