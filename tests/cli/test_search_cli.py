"""`readmit search persons` against the real API over HTTP, and the earlier-cases warning of
`readmit case open`: JSON results with scores and reasons, the criteria sent in the request's
body (never its URL), bad input exiting 2, an administrator's refusal exiting 1."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from served_api import ServedApi
from test_case_cli import PERSON, Terminal
from typer.testing import CliRunner, Result

from readmit.api_client import ApiClient
from readmit.cli.main import app

pytestmark = pytest.mark.temporal


async def search(api: ServedApi, token: str | None, *args: str) -> Result:
    env = {"READMIT_API_URL": api.url, "READMIT_TOKEN": token}
    result = await asyncio.to_thread(CliRunner(env=env).invoke, app, ["search", *args])
    assert "Traceback" not in result.output
    return result


async def test_search_persons_through_the_cli(served_api: ServedApi) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    known = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    opening = ["open", "--agreement", "eu-ua", "--requested", "UA", "--category", "own_national"]
    opening += [*PERSON, "--knowledge-at", known]
    first = await anna(*opening, "--evidence", "passport:FA123456")
    assert first.exit_code == 0, first.output
    first_id = first.stdout.strip()
    assert "already has" not in first.stderr
    second = await anna(*opening, "--evidence", "passport:FB000001")
    assert second.exit_code == 0, second.output
    assert f"warning: this person already has case {first_id}" in second.stderr
    again = await anna(*opening, "--evidence", "passport:FB000002", "--json")
    earlier = json.loads(again.stdout)["earlier_cases"]
    assert {e["case_id"] for e in earlier} == {first_id, second.stdout.strip()}

    token = served_api.token("anna.pl", "officer", "PL")
    found = await search(
        served_api, token, "persons", "--surname", "Шевченко", "--birth-date", "1990-05-17"
    )
    assert found.exit_code == 0, found.output
    items = json.loads(found.stdout)["items"]
    assert len(items) == 3 and all(i["reasons"] == ["surname", "birth_date"] for i in items)
    by_number = await search(served_api, token, "persons", "--document-number", "fa 123456")
    assert [i["case_id"] for i in json.loads(by_number.stdout)["items"]] == [first_id]

    none = await search(served_api, token, "persons")
    assert none.exit_code == 2 and "at least one of --surname" in none.stderr
    undated = await search(served_api, token, "persons", "--birth-date", "17.05.1990")
    assert undated.exit_code == 2 and "is not a date" in undated.stderr
    digits = await search(served_api, token, "persons", "--surname", "12345")
    assert digits.exit_code == 2 and "at least one of" in digits.stderr  # the API's 422
    admin = served_api.token("root.pl", "admin", "PL")
    refused = await search(served_api, admin, "persons", "--surname", "Shevchenko")
    assert refused.exit_code == 1 and "administrators" in refused.stderr


def test_the_criteria_travel_in_the_body() -> None:
    import httpx

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": []})

    with ApiClient("http://readmit.test", "t") as client:
        client._http = httpx.Client(
            base_url="http://readmit.test", transport=httpx.MockTransport(answer)
        )
        client.search_persons({"surname": "Шевченко", "birth_date": "1990-05-17", "x": None})
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/search/persons"
    assert request.url.query == b"" and "1990" not in str(request.url)
    assert json.loads(request.content) == {"surname": "Шевченко", "birth_date": "1990-05-17"}
