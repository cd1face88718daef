"""`readmit stats`: the statistics page's figures over the HTTP API (`GET /stats`), for the
caller's cases only, with the page's filters; text tables, or with `--json` the API's answer.

Exit codes as `readmit case`: 1 when the API refuses (an administrator: 403), 2 for bad input
(a date that is not one, a period ending before it starts: checked here first, and by the API)
and when the API cannot be used.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from domain.values import CaseKind
from readmit.api_client import DEFAULT_API_URL
from readmit.cli.case_render import console
from readmit.cli.case_session import ApiUrlFromEnv, Session, TokenFromEnv, connected
from readmit.cli.common import fail, print_json

BREAKDOWNS = (
    ("by_month", "MONTH OF OPENING"),
    ("by_procedure", "PROCEDURE"),
    ("by_crossing_point", "CROSSING POINT"),
    ("by_verification", "VERIFICATION"),
)
FIGURES = ("cases", "replies", "acceptances", "refusals", "deemed", "transfers")


def register(app: typer.Typer) -> None:
    """Add `stats` to the `readmit` app."""
    app.command("stats")(stats)


def _day(option: str, text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        fail(f"{option} {text!r} is not a date YYYY-MM-DD")


def stats(
    kind: Annotated[
        CaseKind, typer.Option(help="the kind of case counted (each is counted apart)")
    ] = CaseKind.READMISSION,
    agreement: Annotated[str | None, typer.Option(help="agreement id, e.g. EU-UA")] = None,
    opened_from: Annotated[
        str | None, typer.Option("--from", help="opened on this day or later, YYYY-MM-DD")
    ] = None,
    opened_to: Annotated[
        str | None, typer.Option("--to", help="opened on this day or earlier, YYYY-MM-DD")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the API's JSON answer")] = False,
    api_url: ApiUrlFromEnv = DEFAULT_API_URL,
    token: TokenFromEnv = None,
) -> None:
    """Your cases' statistics: per agreement and counterpart, per month of opening, procedure,
    crossing point and verification outcome."""
    first, last = _day("--from", opened_from), _day("--to", opened_to)
    if first and last and last < first:
        fail(f"--to {last} is before --from {first}")
    filters = {"kind": kind.value, "agreement": agreement, "from": first, "to": last}
    with connected(Session(api_url, token or None, as_json)) as client:
        answer = client.statistics(filters)
    if as_json:
        print_json(answer)
        return
    _print(answer)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _print(answer: dict[str, Any]) -> None:
    out = console()
    period = f"{answer.get('from') or '…'} to {answer.get('to') or '…'}"
    out.print(
        f"{answer['kind']} cases opened {period} ({answer['time_zone']})"
        + (f", agreement {answer['agreement']}" if answer.get("agreement") else "")
    )
    groups = Table(box=None, header_style="bold", pad_edge=False)
    columns = ("AGREEMENT", "COUNTERPART", "CASES", "REPLIES", "MEDIAN DAYS", "WITHIN LIMIT")
    for title in (*columns, "DEEMED", "OVERDUE TRANSFERS"):
        groups.add_column(title, no_wrap=True)
    for g in [*answer["groups"], answer["total"]]:
        share = g["share_within_limit"]
        groups.add_row(
            g["agreement"] or "all",
            g["counterpart"] or "all",
            *(_cell(g[k]) for k in ("cases", "replies", "median_reply_days")),
            f"{g['within_limit']}" + ("" if share is None else f" ({share:.0%})"),
            _cell(g["deemed"]),
            _cell(g["overdue_transfers"]),
        )
    out.print(groups)
    for key, title in BREAKDOWNS:
        rows = answer[key]
        if not rows:
            continue
        table = Table(box=None, header_style="bold", pad_edge=False)
        for column in (title, *(f.upper() for f in FIGURES)):
            table.add_column(column, no_wrap=True)
        for row in rows:
            table.add_row(row["value"] or "none", *(_cell(row[f]) for f in FIGURES))
        out.print()
        out.print(table)
