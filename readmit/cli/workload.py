"""`readmit workload`: a state's open cases per officer over the HTTP API (`GET /workload`), with
the overdue and due-soon counts and the unassigned cases, for its supervisors and auditors.
JSON (the API's answer) by default, since scripts read it; `--table` for people.

Exit codes as `readmit case`: 1 when the API refuses (an officer: 403), 2 for bad input (a
state that is not two letters) and when the API cannot be used.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from rich.table import Table

from readmit.api_client import DEFAULT_API_URL
from readmit.cli.case_render import console
from readmit.cli.case_session import ApiUrlFromEnv, Session, TokenFromEnv, connected
from readmit.cli.common import fail, print_json


def register(app: typer.Typer) -> None:
    """Add `workload` to the `readmit` app."""
    app.command("workload")(workload)


def workload(
    state: Annotated[
        str | None, typer.Option(help="the state, e.g. PL (auditors of several states)")
    ] = None,
    table: Annotated[bool, typer.Option("--table", help="a table instead of JSON")] = False,
    api_url: ApiUrlFromEnv = DEFAULT_API_URL,
    token: TokenFromEnv = None,
) -> None:
    """Open cases per officer of your state, with how many are overdue or due soon (within two
    working days of their deadline's calendar) and how many nobody holds (supervisors, auditors)."""
    wanted = state.strip().upper() if state else None
    if wanted is not None and not re.fullmatch(r"[A-Z]{2}", wanted):
        fail(f"--state {state!r}: two letters, e.g. PL")
    with connected(Session(api_url, token or None, not table)) as client:
        answer = client.workload(wanted)
    if not table:
        print_json(answer)
        return
    _print(answer)


def _print(answer: dict[str, Any]) -> None:
    out = console()
    out.print(
        f"{answer['state']}: open cases per officer, due soon = within "
        f"{answer['soon_working_days']} working days"
    )
    rows = Table(box=None, header_style="bold", pad_edge=False)
    for title in ("OFFICER", "ROLE", "CASES", "OVERDUE", "DUE SOON"):
        rows.add_column(title, no_wrap=True)
    for load in (*answer["officers"], answer["unassigned"]):
        name = load["officer"] or "(unassigned)"
        if not load["active"]:
            name += " (not in the directory)"
        figures = (str(load[k]) for k in ("cases", "overdue", "due_soon"))
        rows.add_row(name, load["role"] or "-", *figures)
    out.print(rows)
    out.print(f"replies awaiting approval: {answer.get('awaiting_approval', 0)}")
