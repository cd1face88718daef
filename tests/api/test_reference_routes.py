"""Agreements, identity helpers and the inbox over HTTP: the API answers what the CLI prints for
the same input, and the inbox shows what the case workflow wrote for the caller's state."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import typer
from api_harness import Api
from factories import application_body
from typer.testing import CliRunner

from domain.identity.unzr import make_unzr
from readmit.cli import agreements, identity

pytestmark = pytest.mark.temporal

TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
OPEN = application_body()


def cli(register: Any, *args: str) -> tuple[int, Any]:
    app = typer.Typer(pretty_exceptions_enable=False)
    register(app)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, json.loads(result.stdout) if result.stdout else None


def assert_problem(answer: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body.get("detail")
    if field is not None:
        assert any(field in e["field"] for e in body["errors"]), body
    return body


async def test_agreements_list_and_show_match_the_catalogue_and_cli(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    listed = (await api.http.get("/agreements", headers=anna)).json()["items"]
    by_id = {a["id"]: a for a in listed}
    assert {"EU-UA", "EU-BY", "EU-MD"} <= set(by_id)
    assert by_id["EU-UA"]["protocols"] == ["AT", "PL"]
    assert by_id["EU-UA"]["parties"] == ["EU", "UA"] and not by_id["EU-UA"]["suspended"]
    assert by_id["EU-BY"]["suspended"] and by_id["EU-BY"]["suspension"]["by"] == "BY"
    assert by_id["EU-BY"]["suspension"]["from"] == "2021-10-14"

    for query, args in (({}, []), ({"protocol": "pl"}, ["--protocol", "PL"])):
        shown = await api.http.get("/agreements/eu-ua", params=query, headers=anna)
        assert shown.status_code == 200, shown.text
        code, printed = cli(agreements.register, "agreements", "show", "EU-UA", "--json", *args)
        assert code == 0
        printed.pop("files")
        assert shown.json() == printed
    reply = (await api.http.get("/agreements/EU-UA", headers=anna)).json()["limits"]["reply"]
    assert {"source", "verified"} <= set(reply)

    assert_problem(await api.http.get("/agreements/EU-XX", headers=anna), 404)
    assert_problem(
        await api.http.get("/agreements/EU-UA", params={"protocol": "FR"}, headers=anna),
        422,
        "protocol",
    )


@pytest.mark.parametrize(
    ("query", "extra"),
    [
        ({"limit": "reply"}, []),
        ({"limit": "reply", "extended": "true"}, ["--extended"]),
        ({"limit": "transfer", "extra_days": "10"}, ["--extra-days", "10"]),
        ({"limit": "submission", "protocol": "PL"}, ["--protocol", "PL"]),
    ],
)
async def test_deadlines_answer_what_the_cli_prints(
    api: Api, query: dict[str, str], extra: list[str]
) -> None:
    trigger = "2027-01-04T10:00:00+01:00"
    answer = await api.http.get(
        "/agreements/EU-UA/deadlines",
        params={**query, "requesting": "PL", "requested": "UA", "from": trigger},
        headers=api.as_("olena.ua", "officer", "UA"),
    )
    assert answer.status_code == 200, answer.text
    code, printed = cli(
        agreements.register,
        "deadlines",
        "--agreement",
        "EU-UA",
        "--limit",
        query["limit"],
        "--requesting",
        "PL",
        "--requested",
        "UA",
        "--from",
        trigger,
        *extra,
    )
    assert code == 0
    assert answer.json() == printed


async def test_deadline_errors_name_the_parameter(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    good = {"limit": "reply", "requesting": "PL", "requested": "UA", "from": "2027-01-04T10:00Z"}

    async def get(agreement: str = "EU-UA", **change: str) -> Any:
        return await api.http.get(
            f"/agreements/{agreement}/deadlines", params={**good, **change}, headers=anna
        )

    assert (await get()).status_code == 200
    assert_problem(await get("EU-ZZ"), 404)
    assert "known:" in assert_problem(await get(limit="lunch"), 422, "limit")["detail"]
    assert_problem(await get(**{"from": "2027-01-04T10:00:00"}), 422, "from")
    assert_problem(await get(**{"from": "9999-12-31T10:00:00+00:00"}), 422, "from")
    assert_problem(await get(requested="ZZ"), 422, "requested")
    assert_problem(await get(requesting="DE", requested="PL"), 422, "requesting")
    assert_problem(await get(protocol="AT"), 422, "protocol")
    assert_problem(await get(limit="transfer", extended="true"), 422, "extended")
    assert_problem(await get(extra_days="-1"), 422, "extra_days")


async def test_identity_helpers_answer_what_the_cli_prints(api: Api) -> None:
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    body = {"lines": TD3, "today": "2010-01-01"}
    mrz = await api.http.post("/identity/mrz", json=body, headers=auditor)
    assert mrz.status_code == 200, mrz.text
    code, printed = cli(identity.register, "identity", "mrz", *TD3, "--today", "2010-01-01")
    assert code == 0 and mrz.json() == printed and printed["valid"]
    broken = await api.http.post(
        "/identity/mrz", json={"lines": ["P<UTO", "L898"]}, headers=auditor
    )
    assert "MRZ" in assert_problem(broken, 422, "lines")["detail"]

    names = {"a": "Олександр Шевченко", "b": "Oleksandr Shevchenko"}
    match = await api.http.post("/identity/match", json=names, headers=auditor)
    code, printed = cli(identity.register, "identity", "match", names["a"], names["b"])
    assert match.status_code == 200 and match.json() == printed and printed["is_match"]

    valid = make_unzr(date(1990, 5, 17), 1)
    for number in (valid, valid[:-1] + str((int(valid[-1]) + 1) % 10)):
        answer = await api.http.post("/identity/unzr", json={"number": number}, headers=auditor)
        _, printed = cli(identity.register, "identity", "unzr", number)
        assert answer.status_code == 200 and answer.json() == printed
        assert printed["valid"] is (number == valid)
    assert_problem(
        await api.http.post("/identity/unzr", json={"number": "1990"}, headers=auditor),
        422,
        "number",
    )
    admin = api.as_("root.pl", "admin", "PL")
    assert_problem(await api.http.post("/identity/match", json=names, headers=admin), 403)


async def test_inbox_shows_the_workflows_notices_to_the_callers_state(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    opened = await api.http.post("/cases", json={**OPEN, "knowledge_at": knowledge}, headers=anna)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    for path, who in (("/submit", anna), ("/receipt", olena)):
        done = await api.http.post(f"/cases/{case_id}{path}", json={}, headers=who)
        assert done.status_code == 200, done.text

    async def inbox(who: dict[str, str], kind: str, **params: Any) -> list[dict[str, Any]]:
        for _ in range(100):  # notices are written by an activity after the update returns
            items: list[dict[str, Any]] = (
                await api.http.get("/inbox", params=params, headers=who)
            ).json()["items"]
            if any(i["kind"] == kind for i in items):
                return items
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind} notice in {items}")

    ua = await inbox(olena, "ApplicationSubmitted")
    submitted = next(i for i in ua if i["kind"] == "ApplicationSubmitted")
    assert submitted["case_id"] == case_id and submitted["recipient"] == "@UA:officer"
    assert submitted["unread"] and submitted["read_at"] is None
    assert all(i["state"] == "UA" for i in ua)  # nothing addressed to PL shows up
    pl = await inbox(anna, "ReceiptAcknowledged")
    assert {i["recipient"] for i in pl} == {"@PL:officer"}

    marked = await api.http.post(f"/inbox/{submitted['id']}/read", headers=olena)
    assert marked.status_code == 200, marked.text
    assert marked.json()["read_at"] is not None and not marked.json()["unread"]
    unread = (await api.http.get("/inbox", params={"unread": "true"}, headers=olena)).json()
    assert submitted["id"] not in [i["id"] for i in unread["items"]]
    assert_problem(await api.http.post(f"/inbox/{submitted['id']}/read", headers=anna), 404)
    supervisor = api.as_("sv.ua", "supervisor", "UA")  # another role's inbox in the same state
    assert_problem(await api.http.post(f"/inbox/{submitted['id']}/read", headers=supervisor), 404)
    assert_problem(await api.http.post("/inbox/999999/read", headers=olena), 404)


async def test_inbox_pages_with_a_cursor(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    opened = await api.http.post("/cases", json={**OPEN, "knowledge_at": knowledge}, headers=anna)
    await api.pool.executemany(  # notices about a case of PL (the inbox shows no others to PL)
        "INSERT INTO notifications (key, notice_key, case_id, recipient, state, role, channel,"
        " kind, subject, payload, status) VALUES ($1, $1, $4, $2, 'PL',"
        " 'officer', $3, 'Test', 'subject', '{}', 'delivered')",
        [
            (key, recipient, channel, opened.json()["case_id"])
            for key, recipient, channel in [(f"k{n}", "anna.pl", "inbox") for n in range(5)]
            + [("other", "bob.pl", "inbox"), ("mail", "anna.pl", "email")]
        ],
    )
    first = (await api.http.get("/inbox", params={"limit": 3}, headers=anna)).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = (
        await api.http.get(
            "/inbox", params={"limit": 3, "cursor": first["next_cursor"]}, headers=anna
        )
    ).json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    assert {i["recipient"] for i in first["items"] + second["items"]} == {"anna.pl"}
    assert_problem(await api.http.get("/inbox", params={"cursor": "x1"}, headers=anna), 422)


async def test_audit_log_shows_disclosures_of_the_auditors_states_only(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    opened = await api.http.post("/cases", json={**OPEN, "knowledge_at": knowledge}, headers=anna)
    case_id = opened.json()["case_id"]
    assert (await api.http.post(f"/cases/{case_id}/submit", json={}, headers=anna)).is_success
    olena = api.as_("olena.ua", "officer", "UA")
    assert (await api.http.get(f"/cases/{case_id}", headers=olena)).status_code == 200
    assert (await api.http.get(f"/cases/{case_id}/events", headers=anna)).status_code == 200

    async def log(who: dict[str, str], **params: str) -> list[dict[str, Any]]:
        answer = await api.http.get("/audit/disclosures", params=params, headers=who)
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    for states in (("PL",), ("UA",), ("*",)):
        seen = await log(api.as_("audit.x", "auditor", None, states))
        assert [(e["user_id"], e["purpose"]) for e in seen] == [
            ("anna.pl", "history"),
            ("olena.ua", "case view"),
        ]
    assert await log(api.as_("audit.md", "auditor", None, ("MD",))) == []
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    only = await log(auditor, user_id="olena.ua", case_id=case_id)
    assert [e["endpoint"] for e in only] == ["GET /cases/{id}"]
    assert await log(auditor, case_id="PL-UA-1999-000001") == []
    assert_problem(await api.http.get("/audit/disclosures", headers=anna), 403)
