"""Messages over the API: the requested state asks, the requesting state answers, either side
writes a note; each message is one `CaseMessageSent` whose actor is its author, sealed with the
case key, read back opened by the parties and auditors (each read in the disclosure log), and
notified to the other side. Bad input and callers who may not write change nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_harness import Api
from factories import application_body

from adapters.protection.vault import PersonalDataVault

pytestmark = pytest.mark.temporal

OPEN = application_body(knowledge_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
ASK = "Please send the birth certificate of Oleksandr's son Petro"
ANSWER = "Petro's certificate was issued in Lviv; a copy follows by courier"
NOTE = "The interpreter Hrytsenko will attend on our side"
WRITTEN = (ASK, ANSWER, NOTE)


async def opened_case(api: Api, *, submit: bool = True) -> str:
    anna = api.as_("anna.pl", "officer", "PL")
    opened = await api.http.post("/cases", json=OPEN, headers=anna)
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    if submit:
        answer = await api.http.post(f"/cases/{case_id}/submit", json={}, headers=anna)
        assert answer.status_code == 200, answer.text
    return case_id


async def send(api: Api, case_id: str, who: dict[str, str], **body: Any) -> Any:
    return await api.http.post(f"/cases/{case_id}/messages", json=body, headers=who)


async def stored_messages(api: Api, case_id: str) -> list[Any]:
    return list(
        await api.pool.fetch(
            "SELECT data::text, metadata FROM case_events"
            " WHERE stream_id = $1 AND type = 'CaseMessageSent' ORDER BY version",
            case_id,
        )
    )


def assert_problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    found: dict[str, Any] = answer.json()
    return found


async def test_a_conversation_is_sealed_shown_to_both_sides_and_notified(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    case_id = await opened_case(api)

    asked = await send(api, case_id, olena, kind="request_information", text=ASK)
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["message_id"]
    assert [e["type"] for e in asked.json()["events"]] == ["CaseMessageSent"]
    answered = await send(api, case_id, anna, kind="answer", text=ANSWER, answers=request_id)
    assert answered.status_code == 201, answered.text
    noted = await send(api, case_id, anna, kind="note", text=NOTE)
    assert noted.status_code == 201, noted.text

    for reader in (anna, olena, auditor):
        listed = await api.http.get(f"/cases/{case_id}/messages", headers=reader)
        assert listed.status_code == 200, listed.text
        messages = listed.json()["messages"]
        assert [(m["kind"], m["state"], m["text"]) for m in messages] == [
            ("request_information", "UA", ASK),
            ("answer", "PL", ANSWER),
            ("note", "PL", NOTE),
        ]
        assert [m["author"]["user_id"] for m in messages] == ["olena.ua", "anna.pl", "anna.pl"]
        assert messages[0]["message_id"] == request_id and messages[0]["answered"] is True
        assert messages[0]["answer_due"] is None  # EU-UA's terms set no limit for an answer
        assert messages[1]["answers"] == request_id and messages[1]["answered"] is None
        assert all(datetime.fromisoformat(m["at"]).tzinfo for m in messages)

    # only seals are stored; every read is in the disclosure log
    rows = await stored_messages(api, case_id)
    assert len(rows) == 3 and not any(t in r[0] for r in rows for t in WRITTEN)
    logged = await api.pool.fetchval(
        "SELECT count(*) FROM disclosure_log WHERE case_id = $1 AND purpose = 'messages'", case_id
    )
    assert logged == 3

    async def inbox(who: dict[str, str], kind: str) -> list[dict[str, Any]]:
        for _ in range(100):  # notices are written by an activity after the update returns
            items = (await api.http.get("/inbox", headers=who)).json()["items"]
            found = [i for i in items if i["kind"] == kind and i["case_id"] == case_id]
            if found:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind} notice")

    (told_pl,) = await inbox(anna, "CaseMessageSent")
    assert "Request for information" in told_pl["subject"] and told_pl["state"] == "PL"
    told_ua = await inbox(olena, "CaseMessageSent")
    assert {n["state"] for n in told_ua} == {"UA"} and len(told_ua) == 2
    assert not any(t in str(told_ua) + str(told_pl) for t in WRITTEN)  # no text in notices


async def test_refusals_change_nothing(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    case_id = await opened_case(api)

    # the wrong side for a kind, an answer to nothing: the case refuses (409, 422)
    problem = assert_problem(
        await send(api, case_id, anna, kind="request_interview", text="x"), 409
    )
    assert problem["domain_error"] == "MessageNotAllowed"
    assert_problem(await send(api, case_id, anna, kind="answer", text="x"), 422)
    unknown = "00000000-0000-4000-8000-000000000009"
    assert_problem(await send(api, case_id, anna, kind="answer", text="x", answers=unknown), 409)
    # bad input: empty, blank, oversized, unknown kind or field, a seal instead of text
    for body in (
        {"kind": "note", "text": ""},
        {"kind": "note", "text": "   "},
        {"kind": "note", "text": "x" * 4001},
        {"kind": "gossip", "text": "x"},
        {"kind": "note"},
        {"kind": "note", "text": "x", "side": "requested"},
        {"kind": "note", "text": "x", "message_id": unknown},
        {"kind": "note", "text": {"sealed": "v1.AAAAAAAAAAAAAAAAAAAAAAAA"}},
    ):
        assert_problem(await send(api, case_id, anna, **body), 422)
    # who may not write: an auditor, an administrator (403); another state (404)
    for who, status in (
        (api.as_("audit.pl", "auditor", None, ("PL",)), 403),
        (api.as_("root.pl", "admin", "PL"), 403),
        (api.as_("hans.de", "officer", "DE"), 404),
    ):
        assert_problem(await send(api, case_id, who, kind="note", text="x"), status)
    hidden = await api.http.get(
        f"/cases/{case_id}/messages", headers=api.as_("hans.de", "officer", "DE")
    )
    assert_problem(hidden, 404)
    assert await stored_messages(api, case_id) == []

    # a draft has no other side yet: its own state cannot write, the other does not see it
    draft = await opened_case(api, submit=False)
    assert_problem(await send(api, draft, anna, kind="note", text="x"), 409)
    assert_problem(await send(api, draft, olena, kind="note", text="x"), 404)
    assert_problem(await api.http.get(f"/cases/{draft}/messages", headers=olena), 404)

    # a closed case (a withdrawn case closes by itself): the conversation is over
    withdrawn = await api.http.post(
        f"/cases/{case_id}/withdraw", json={"reasons": ["no longer needed"]}, headers=anna
    )
    assert withdrawn.status_code == 200, withdrawn.text
    problem = assert_problem(await send(api, case_id, olena, kind="note", text="x"), 409)
    assert problem["domain_error"] == "CaseClosedError"
    assert await stored_messages(api, case_id) == []


async def test_an_idempotent_message_is_recorded_once(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    case_id = await opened_case(api)
    headers = {**anna, "Idempotency-Key": "note-1"}
    first = await send(api, case_id, headers, kind="note", text=NOTE)
    again = await send(api, case_id, headers, kind="note", text=NOTE)
    assert first.status_code == again.status_code == 201, again.text
    assert first.json()["message_id"] == again.json()["message_id"]
    assert len(await stored_messages(api, case_id)) == 1


async def test_erasure_makes_the_conversation_unreadable(
    api: Api, vault: PersonalDataVault
) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    case_id = await opened_case(api)
    assert (await send(api, case_id, olena, kind="note", text=NOTE)).status_code == 201

    assert await vault.erase([case_id], datetime.now(UTC), "test: erasure") == [case_id]

    for reader in (anna, auditor):
        listed = await api.http.get(f"/cases/{case_id}/messages", headers=reader)
        assert listed.status_code == 200, listed.text
        (message,) = listed.json()["messages"]
        assert message["text"] == {"erased": True}
        assert message["author"]["user_id"] == "olena.ua" and message["kind"] == "note"
        history = await api.http.get(f"/cases/{case_id}/events", headers=reader)
        assert NOTE not in history.text and NOTE not in listed.text
    rows = await stored_messages(api, case_id)
    assert len(rows) == 1 and NOTE not in rows[0][0]
    # nothing new can be written to it: the text would be sealed with a key that is gone
    assert_problem(await send(api, case_id, anna, kind="note", text="x"), 410)
