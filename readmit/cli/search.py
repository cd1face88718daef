"""`readmit search persons`: find the cases of a person over the HTTP API (`POST /search/persons`),
by any of surname, given names, date of birth and document number; JSON output.

Names are options here, but travel to the API in the request's body, never in its URL. Exit codes
as `readmit case`: 1 when the API refuses (an administrator: 403), 2 for bad input (no criterion,
a date that is not one: checked here first, and by the API) and when the API cannot be used.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from readmit.api_client import DEFAULT_API_URL
from readmit.cli.case_session import ApiUrlFromEnv, Session, TokenFromEnv, connected
from readmit.cli.common import fail, print_json

app = typer.Typer(help="Find earlier applications: the cases of a person.", no_args_is_help=True)


def register(parent: typer.Typer) -> None:
    """Add `search` to the `readmit` app."""
    parent.add_typer(app, name="search")


@app.command("persons")
def persons(
    surname: Annotated[str | None, typer.Option(help="in any script or transliteration")] = None,
    given_names: Annotated[str | None, typer.Option(help="in any script or spelling")] = None,
    birth_date: Annotated[str | None, typer.Option(help="date of birth, YYYY-MM-DD")] = None,
    document_number: Annotated[
        str | None, typer.Option(help="a passport's or identity card's number")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="at most this many cases")] = 20,
    api_url: ApiUrlFromEnv = DEFAULT_API_URL,
    token: TokenFromEnv = None,
) -> None:
    """The cases you may see whose person matches, best first, each with its score (0-1) and
    the criteria that matched (`surname~`: a similar spelling only)."""
    if not any((surname, given_names, birth_date, document_number)):
        fail("give at least one of --surname, --given-names, --birth-date, --document-number")
    if birth_date is not None:
        try:
            birth_date = date.fromisoformat(birth_date).isoformat()
        except ValueError:
            fail(f"--birth-date {birth_date!r} is not a date YYYY-MM-DD")
    criteria = {
        "surname": surname,
        "given_names": given_names,
        "birth_date": birth_date,
        "document_number": document_number,
        "limit": limit,
    }
    with connected(Session(api_url, token or None, True)) as client:
        answer = client.search_persons(criteria)
    print_json(answer)
