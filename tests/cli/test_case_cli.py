"""`readmit case ...` against the real API over HTTP: a case walked by two officers of
different states, what a refusal and bad input print and exit with, and an API that is not there.

The CLI runs in a thread (it blocks) while the API, the workers and Temporal run on the loop.
"""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
import typer
from served_api import ServedApi
from typer.testing import CliRunner, Result

from readmit.cli import case

pytestmark = pytest.mark.temporal

PERSON = ["--surname", "Shevchenko", "--given-names", "Oleksandr", "--birth-date", "1990-05-17"]


def cli() -> typer.Typer:
    app = typer.Typer()
    case.register(app)
    return app


class Terminal:
    """One operator at a terminal: the API's URL and their token as options or in the
    environment (READMIT_API_URL, READMIT_TOKEN)."""

    def __init__(self, api: ServedApi, token: str | None, *, from_env: bool = False) -> None:
        self.env = {"READMIT_API_URL": api.url, "READMIT_TOKEN": token} if from_env else {}
        self.options = [] if from_env else ["--api-url", api.url]
        self.options += ["--token", token] if token and not from_env else []
        self.app = cli()

    async def __call__(self, *args: str) -> Result:
        runner = CliRunner(env=self.env)
        result = await asyncio.to_thread(runner.invoke, self.app, ["case", *self.options, *args])
        assert "Traceback" not in result.output
        return result


async def test_a_case_walked_through_the_cli(served_api: ServedApi) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    olena = Terminal(served_api, served_api.token("olena.ua", "officer", "UA"), from_env=True)
    known = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    open_args = ["open", "--agreement", "eu-ua", "--requested", "UA", "--category", "own_national"]
    open_args += [*PERSON, "--evidence", "passport:FA123456", "--knowledge-at", known]
    opened = await anna(*open_args, "--idempotency-key", "open-1")
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()
    assert case_id.startswith(f"PL-UA-{datetime.now(UTC).year}-")
    again = await anna(*open_args, "--idempotency-key", "open-1", "--json")
    assert json.loads(again.stdout)["case_id"] == case_id  # a retried open opens nothing new

    listed = await anna("list")
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.stdout.splitlines() if line.startswith(case_id))
    assert "SHEVCHENKO O., 1990" in row and "UA" in row and "draft" in row
    # an own national: no submission window runs, so a draft has no limit to show
    assert "submission" not in row and "PL (you)" in row

    submitted = await anna("submit", case_id)
    assert submitted.exit_code == 0, submitted.output
    assert submitted.stdout.startswith(f"{case_id}: received")  # delivered on submission
    assert "ApplicationSubmitted" in submitted.stdout and "ApplicationDelivered" in submitted.stdout

    forbidden = await anna("accept", case_id)
    assert forbidden.exit_code == 1 and "Forbidden" in forbidden.stderr
    acknowledged = await olena("receipt", case_id)
    assert acknowledged.exit_code == 0 and "ReceiptAcknowledged" in acknowledged.stdout
    every = await olena("--json", "list", "--all", "--limit", "1", "--status", "received")
    assert [item["case_id"] for item in json.loads(every.stdout)] == [case_id]
    shown = await olena("show", case_id)
    assert "passport FA123456: proof" in shown.stdout and "you may:" in shown.stdout
    assert "accept" in shown.stdout and "reply" in shown.stdout
    accepted = await olena("accept", case_id, "--note", "identity confirmed", "--json")
    assert json.loads(accepted.stdout)["status"] == "accepted"

    refused = await olena("accept", case_id)
    assert refused.exit_code == 1
    assert "Command refused" in refused.stderr and "[" in refused.stderr  # the domain error
    assert len(refused.stderr.strip().splitlines()) <= 2

    verified = await anna("verify", case_id)
    assert verified.exit_code == 0 and "chain intact" in verified.stdout
    history = await anna("events", case_id)
    assert "CaseOpened" in history.stdout and "anna.pl (PL officer)" in history.stdout
    earlier = await anna("state", case_id, "--version", "2", "--json")  # opened, submitted
    assert json.loads(earlier.stdout)["state"]["status"] == "submitted"


async def test_bad_input_exits_2_with_every_field_error(served_api: ServedApi) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    base = ["open", "--agreement", "EU-UA", "--requested", "UA", "--category", "own_national"]
    undated = await anna(*base, *PERSON[:4], "--birth-date", "17.05.1990")
    assert undated.exit_code == 2 and "--birth-date '17.05.1990'" in undated.stderr
    invalid = await anna(*base, *PERSON, "--evidence", "passport:" + "9" * 300)
    assert invalid.exit_code == 2, invalid.output
    assert "Invalid input" in invalid.stderr and "evidence.0.number" in invalid.stderr
    unknown = await anna("show", "PL-UA-2027-999999")
    assert unknown.exit_code == 1 and "no case PL-UA-2027-999999" in unknown.stderr
    anonymous = await Terminal(served_api, None)("list")
    assert anonymous.exit_code == 2 and "READMIT_TOKEN" in anonymous.stderr


def test_an_unreachable_api_exits_2_naming_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = CliRunner().invoke(cli(), ["case", "list", "--api-url", url, "--token", "t"])
    assert result.exit_code == 2
    assert f"cannot reach the API at {url}" in result.stderr and "make run" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


async def test_readmission_in_error_and_a_correction_through_the_cli(served_api: ServedApi) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    olena = Terminal(served_api, served_api.token("olena.ua", "officer", "UA"))
    now = await served_api.env.get_current_time()
    open_args = ["open", "--agreement", "EU-UA", "--requested", "UA", "--category", "own_national"]
    open_args += [*PERSON, "--evidence", "passport:FA123456"]
    opened = await anna(*open_args, "--knowledge-at", (now - timedelta(days=1)).isoformat())
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()

    # a correction: only the options given change, the rest is read from the case
    nothing = await anna("amend-person", case_id)
    assert nothing.exit_code == 2 and "at least one field" in nothing.stderr
    corrected = await anna("amend-person", case_id, "--birth-date", "1990-05-18", "--json")
    assert corrected.exit_code == 0, corrected.output
    assert [e["type"] for e in json.loads(corrected.stdout)["events"]] == ["PersonAmended"]
    person = json.loads((await anna("show", case_id, "--json")).stdout)["person"]
    assert (person["surname"], person["birth_date"]) == ("Shevchenko", "1990-05-18")
    assert (await olena("amend-person", case_id, "--surname", "X")).exit_code == 1  # not its side

    assert (await anna("submit", case_id)).exit_code == 0
    assert (await olena("accept", case_id)).exit_code == 0
    on = (await served_api.env.get_current_time() + timedelta(days=1)).isoformat()
    plan = ["--on", on, "--bcp", "Medyka-Shehyni", "--mode", "land"]
    assert (await anna("transfer", case_id, *plan)).exit_code == 0
    await served_api.env.sleep(86400)
    assert (await anna("transfer-complete", case_id)).exit_code == 0
    claim = await olena("error-claim", case_id, "--reason", "no citizenship on record")
    assert claim.exit_code == 0 and claim.stdout.startswith(f"{case_id}: error_claimed")
    early = await olena("return-complete", case_id)
    assert early.exit_code == 1 and "WrongStatus" in early.stderr
    no_reason = await anna("error-dispute", case_id)
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    accepted = await anna("error-accept", case_id, "--note", "we take the person back")
    assert accepted.exit_code == 0 and "error_accepted" in accepted.stdout
    on = (await served_api.env.get_current_time() + timedelta(days=2)).isoformat()
    back = ["--on", on, "--bcp", "Medyka-Shehyni", "--mode", "land", "--escorts", "1"]
    assert (await olena("return", case_id, *back)).exit_code == 0
    await served_api.env.sleep(2 * 86400)
    done = await olena("return-complete", case_id)
    assert done.exit_code == 0 and "returned_in_error" in done.stdout
    shown = (await anna("show", case_id)).stdout
    assert "error claim:" in shown and "(no citizenship on record)" in shown
    assert "  returned: " in shown and "corrected: " in shown
