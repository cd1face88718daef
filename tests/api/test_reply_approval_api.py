"""A reply's approval over the API, where Ukraine's replies under EU-UA await a supervisor's
approval (`READMIT_REPLY_APPROVAL=UA:EU-UA`): an officer's accept or refuse is recorded as a
draft (202, `"approval": "awaiting"`), shown to the requested state only; a supervisor of the
replying state approves it (the reply itself, from that instant) or returns it with reasons;
officers, the other state and auditors may not; bad input is problem+json and changes nothing.
Where no approval is required, a reply leaves as before."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_harness import Api
from factories import application_body
from test_transit_api import open_transit

pytestmark = pytest.mark.temporal

OPEN = application_body(knowledge_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())


def require_approval(api: Api, policy: str = "UA:EU-UA") -> None:
    """This installation's policy (the app's own settings object, read on each request)."""
    api.services.settings.reply_approval = policy


async def received_case(api: Api) -> str:
    anna = api.as_("anna.pl", "officer", "PL")
    opened = await api.http.post("/cases", json=OPEN, headers=anna)
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    answer = await api.http.post(f"/cases/{case_id}/submit", json={}, headers=anna)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "received"  # submitting delivers
    return case_id


def problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    return body


async def event_types(api: Api, case_id: str) -> list[str]:
    rows = await api.pool.fetch(
        "SELECT type FROM case_events WHERE stream_id = $1 ORDER BY version", case_id
    )
    return [r["type"] for r in rows]


async def test_an_officer_drafts_a_supervisor_approves(api: Api) -> None:
    require_approval(api)
    case_id = await received_case(api)
    olena, taras = api.as_("olena.ua", "officer", "UA"), api.as_("taras.ua", "supervisor", "UA")
    anna = api.as_("anna.pl", "officer", "PL")

    drafted = await api.http.post(f"/cases/{case_id}/accept", json={"note": "ok"}, headers=olena)
    assert drafted.status_code == 202, drafted.text
    assert drafted.json()["approval"] == "awaiting"
    assert drafted.json()["status"] == "received"
    assert [e["type"] for e in drafted.json()["events"]] == ["ReplyDrafted"]

    shown = (await api.http.get(f"/cases/{case_id}", headers=olena)).json()
    assert shown["status"] == "received" and shown["replied_at"] is None
    draft = shown["reply_approval"]["draft"]
    assert (draft["reply"], draft["note"], draft["by"]) == ("accept", "ok", "olena.ua")
    # the requested state's own deliberation: not the requesting state's to see
    assert (await api.http.get(f"/cases/{case_id}", headers=anna)).json()["reply_approval"] is None
    # nor in the history the requesting state reads
    for caller, shown_to in ((olena, True), (anna, False)):
        history = (await api.http.get(f"/cases/{case_id}/events", headers=caller)).json()
        types = [e["type"] for e in history["events"]]
        assert ("ReplyDrafted" in types) is shown_to, types
    # the note is sealed like the reply's own
    stored = await api.pool.fetchval(
        "SELECT data::text FROM case_events WHERE stream_id = $1 AND type = 'ReplyDrafted'",
        case_id,
    )
    assert '"ok"' not in stored

    again = await api.http.post(f"/cases/{case_id}/refuse", json={"reasons": ["x"]}, headers=olena)
    assert problem(again, 409)["domain_error"] == "ReplyAlreadyDrafted"

    approved = await api.http.post(f"/cases/{case_id}/reply/approve", json={}, headers=taras)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "accepted" and "approval" not in approved.json()
    after = (await api.http.get(f"/cases/{case_id}", headers=olena)).json()
    replied = datetime.fromisoformat(after["replied_at"])
    assert replied == datetime.fromisoformat(approved.json()["events"][0]["at"])
    assert after["reply_approval"] is None
    row = await api.pool.fetchrow(
        "SELECT metadata->>'actor' AS actor, metadata->>'command' AS command FROM case_events"
        " WHERE stream_id = $1 AND type = 'ApplicationAccepted'",
        case_id,
    )
    assert (row["actor"], row["command"]) == ("taras.ua", "approve_reply")


async def test_a_supervisor_returns_and_the_officer_drafts_again(api: Api) -> None:
    require_approval(api)
    case_id = await received_case(api)
    olena, taras = api.as_("olena.ua", "officer", "UA"), api.as_("taras.ua", "supervisor", "UA")
    path = f"/cases/{case_id}"

    nothing = await api.http.post(f"{path}/reply/approve", json={}, headers=taras)
    assert problem(nothing, 409)["domain_error"] == "NothingDrafted"
    refusal = {"reasons": ["not a national of Ukraine"]}
    assert (await api.http.post(f"{path}/refuse", json=refusal, headers=olena)).status_code == 202

    back = await api.http.post(f"{path}/reply/return", json={"reasons": ["cite"]}, headers=taras)
    assert back.status_code == 200, back.text
    assert [e["type"] for e in back.json()["events"]] == ["ReplyReturned"]
    returned = (await api.http.get(path, headers=olena)).json()["reply_approval"]
    assert returned["draft"] is None and returned["returned"]["reasons"] == ["cite"]

    assert (await api.http.post(f"{path}/refuse", json=refusal, headers=olena)).status_code == 202
    approved = await api.http.post(f"{path}/reply/approve", json={}, headers=taras)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "refused"
    shown = (await api.http.get(path, headers=olena)).json()
    assert shown["refusal_reasons"] == ["not a national of Ukraine"]


async def test_only_the_replying_state_s_supervisors_approve_or_return(api: Api) -> None:
    require_approval(api)
    case_id = await received_case(api)
    olena = api.as_("olena.ua", "officer", "UA")
    path = f"/cases/{case_id}"
    assert (await api.http.post(f"{path}/accept", json={}, headers=olena)).status_code == 202
    before = await event_types(api, case_id)
    for caller in (
        olena,
        api.as_("anna.pl", "officer", "PL"),
        api.as_("piotr.pl", "supervisor", "PL"),
        api.as_("audit.ua", "auditor", None, ("UA",)),
    ):
        for action, body in (("approve", {}), ("return", {"reasons": ["r"]})):
            answer = await api.http.post(f"{path}/reply/{action}", json=body, headers=caller)
            problem(answer, 403)
    other = api.as_("hans.de", "supervisor", "DE")
    problem(await api.http.post(f"{path}/reply/approve", json={}, headers=other), 404)
    assert await event_types(api, case_id) == before


async def test_bad_input_is_refused_and_changes_nothing(api: Api) -> None:
    require_approval(api)
    case_id = await received_case(api)
    olena, taras = api.as_("olena.ua", "officer", "UA"), api.as_("taras.ua", "supervisor", "UA")
    path = f"/cases/{case_id}"
    assert (await api.http.post(f"{path}/accept", json={}, headers=olena)).status_code == 202
    before = await event_types(api, case_id)
    for action, body in (
        ("return", {}),
        ("return", {"reasons": []}),
        ("return", {"reasons": ["r"], "by": "someone"}),
        ("approve", {"reply": "refuse"}),
    ):
        problem(await api.http.post(f"{path}/reply/{action}", json=body, headers=taras), 422)
    problem(await api.http.post("/cases/PL-UA-2027-99/reply/approve", json={}, headers=taras), 422)
    assert await event_types(api, case_id) == before


async def test_where_no_approval_is_required_a_reply_leaves_as_before(api: Api) -> None:
    require_approval(api, "UA:EU-MD,PL:*")  # not Ukraine's replies under EU-UA
    case_id = await received_case(api)
    olena = api.as_("olena.ua", "officer", "UA")
    answer = await api.http.post(f"/cases/{case_id}/accept", json={}, headers=olena)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "accepted" and "approval" not in answer.json()
    # and a supervisor's own reply leaves at once where approval is required
    require_approval(api)
    second = await received_case(api)
    taras = api.as_("taras.ua", "supervisor", "UA")
    direct = await api.http.post(f"/cases/{second}/accept", json={}, headers=taras)
    assert direct.status_code == 200 and direct.json()["status"] == "accepted"


async def bundle_text(api: Api, case_id: str, auditor: tuple[str, str]) -> str:
    """Every file of the audit bundle `auditor` (user, state) exports from the case's audit
    page, as one text."""
    user, state = auditor
    api.http.cookies.clear()
    headers = {"Cookie": f"readmit_session={await api.session(user, 'auditor', None, (state,))}"}
    page = await api.http.get(f"/ui/audit/cases/{case_id}", headers=headers)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    exported = await api.http.post(
        f"/ui/audit/cases/{case_id}/export", data={"csrf": found[1]}, headers=headers
    )
    assert exported.status_code == 200, exported.text
    with zipfile.ZipFile(io.BytesIO(exported.content)) as bundle:
        return "\n".join(bundle.read(name).decode() for name in bundle.namelist())


async def test_the_requesting_state_s_audit_export_holds_no_drafted_text(api: Api) -> None:
    """A draft and its return are the requested state's own: its auditor's bundle opens their
    reasons, the requesting state's auditor's does not (the events stay, sealed, for the chain)."""
    require_approval(api)
    case_id = await received_case(api)
    olena, taras = api.as_("olena.ua", "officer", "UA"), api.as_("taras.ua", "supervisor", "UA")
    path = f"/cases/{case_id}"
    drafted = {"reasons": ["draft-reason-of-ukraine"]}
    assert (await api.http.post(f"{path}/refuse", json=drafted, headers=olena)).status_code == 202
    back = {"reasons": ["return-reason-of-ukraine"]}
    assert (
        await api.http.post(f"{path}/reply/return", json=back, headers=taras)
    ).status_code == 200

    own = await bundle_text(api, case_id, ("audit.ua", "UA"))
    assert "draft-reason-of-ukraine" in own and "return-reason-of-ukraine" in own
    other = await bundle_text(api, case_id, ("audit.pl", "PL"))
    assert "draft-reason-of-ukraine" not in other and "return-reason-of-ukraine" not in other


async def test_a_transit_reply_awaits_approval_as_a_readmission_reply_does(api: Api) -> None:
    """Consent to a transit, or its refusal, is the requested state's reply too: where Moldova
    requires approval under EU-MD, its officer's consent or refusal is a draft, and only a
    supervisor's approval lets it leave (as the consent or refusal, from that instant)."""
    require_approval(api, "MD:EU-MD")
    anna, ion = api.as_("anna.at", "officer", "AT"), api.as_("ion.md", "officer", "MD")
    maria = api.as_("maria.md", "supervisor", "MD")
    case_id = await open_transit(api, anna, datetime.now(UTC) + timedelta(days=14))
    path = f"/cases/{case_id}"
    assert (await api.http.post(f"{path}/submit", json={}, headers=anna)).status_code == 200

    refused = await api.http.post(
        f"{path}/transit/refuse", json={"reasons": ["no assurance"]}, headers=ion
    )
    assert refused.status_code == 202, refused.text
    assert refused.json()["approval"] == "awaiting" and refused.json()["status"] == "received"
    back = {"reasons": ["consent instead"]}
    assert (
        await api.http.post(f"{path}/reply/return", json=back, headers=maria)
    ).status_code == 200

    consent = await api.http.post(f"{path}/transit/consent", json={"note": "ok"}, headers=ion)
    assert consent.status_code == 202, consent.text
    assert [e["type"] for e in consent.json()["events"]] == ["ReplyDrafted"]
    shown = (await api.http.get(path, headers=ion)).json()
    assert shown["status"] == "received" and shown["reply_approval"]["draft"]["note"] == "ok"
    assert (await api.http.get(path, headers=anna)).json()["reply_approval"] is None

    approved = await api.http.post(f"{path}/reply/approve", json={}, headers=maria)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "consented"
    assert approved.json()["events"][0]["type"] == "TransitConsented"
