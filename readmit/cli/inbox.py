"""`readmit inbox` and `readmit audit disclosures`: the caller's notifications and, for
auditors, the disclosure log, over the HTTP API (`GET /inbox`, `GET /audit/disclosures`); text,
or with `--json` the API's answer.

Exit codes as `readmit case`: 1 when the API refuses (an officer asking for the disclosure log:
403), 2 for bad input or a missing token, and when the API cannot be used.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from readmit.api_client import DEFAULT_API_URL
from readmit.cli.case_render import console
from readmit.cli.case_session import ApiUrlFromEnv, Session, TokenFromEnv, connected
from readmit.cli.common import print_json

AsJson = Annotated[bool, typer.Option("--json", help="print the API's JSON answer")]


def register(app: typer.Typer) -> None:
    """Add `inbox` to the `readmit` app (`disclosures` joins the `audit` group there)."""
    app.command("inbox")(inbox)


def inbox(
    unread: Annotated[bool, typer.Option("--unread", help="only those not read yet")] = False,
    limit: Annotated[int, typer.Option(min=1, max=200, help="at most this many")] = 50,
    as_json: AsJson = False,
    api_url: ApiUrlFromEnv = DEFAULT_API_URL,
    token: TokenFromEnv = None,
) -> None:
    """Your notifications, newest first: what your cases ask of you."""
    with connected(Session(api_url, token or None, as_json)) as client:
        answer = client.inbox(unread=unread, limit=limit)
    if as_json:
        print_json(answer)
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("WHEN", "CASE", "KIND", "SUBJECT", "READ"):
        table.add_column(column, no_wrap=column != "SUBJECT")
    for item in answer["items"]:
        table.add_row(
            item["created_at"][:16].replace("T", " "),
            item["case_id"],
            item["kind"],
            item["subject"],
            "yes" if item.get("read_at") else "",
        )
    console().print(table if answer["items"] else "no notifications")


def disclosures(
    case_id: Annotated[str | None, typer.Option("--case", help="only this case")] = None,
    user_id: Annotated[str | None, typer.Option("--user", help="only this user")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="at most this many")] = 100,
    as_json: AsJson = False,
    api_url: ApiUrlFromEnv = DEFAULT_API_URL,
    token: TokenFromEnv = None,
) -> None:
    """Who saw which case's personal data, newest first, within your states (auditors)."""
    with connected(Session(api_url, token or None, as_json)) as client:
        answer = client.disclosures(
            case_id=case_id.upper() if case_id else None, user_id=user_id, limit=limit
        )
    if as_json:
        print_json(answer)
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("WHEN", "WHO", "ROLE", "PURPOSE", "CASES"):
        table.add_column(column, no_wrap=column != "CASES")
    for item in answer["items"]:
        table.add_row(
            item["at"][:19].replace("T", " "),
            item["user_id"],
            item["role"] + (f" {item['state']}" if item.get("state") else ""),
            item["purpose"],
            ", ".join(item["case_ids"]),
        )
    console().print(table if answer["items"] else "no disclosures")
