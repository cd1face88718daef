"""Over HTTP, what officers write (reasons, notes, the apprehension place's name) is sealed with
the case key before it reaches Temporal or the event store, shown opened to the case's parties,
and shown as erased once the key is gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_harness import Api
from factories import application_body

from adapters.protection.vault import PersonalDataVault

pytestmark = pytest.mark.temporal

PLACE = "Vokzalna street 12, Przemysl"
EXTENSION = "his mother Olha is in hospital in Bila Tserkva"
REFUSAL = "the person told the consul he was born in Chisinau"
NOTE = "the interpreter Petrenko was present"
WRITTEN = (PLACE, EXTENSION, REFUSAL)


async def opened_case(api: Api, headers: dict[str, str]) -> str:
    now = datetime.now(UTC)
    body = application_body(
        knowledge_at=(now - timedelta(days=1)).isoformat(),
        apprehended_at=(now - timedelta(days=1)).isoformat(),
        apprehension_place={"kind": "inland", "name": PLACE},
    )
    opened = await api.http.post("/cases", json=body, headers=headers)
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    assert (await api.http.post(f"/cases/{case_id}/submit", json={}, headers=headers)).is_success
    return case_id


async def test_free_text_is_sealed_shown_to_the_parties_and_erased_with_the_key(
    api: Api, vault: PersonalDataVault
) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    case_id = await opened_case(api, anna)
    for path, body in (
        ("/extension", {"reasons": [EXTENSION]}),
        ("/refuse", {"reasons": [REFUSAL]}),
    ):
        answer = await api.http.post(f"/cases/{case_id}{path}", json=body, headers=olena)
        assert answer.status_code == 200, answer.text

    # the case's parties read what was written...
    view = (await api.http.get(f"/cases/{case_id}", headers=anna)).json()
    assert view["refusal_reasons"] == [REFUSAL]
    assert view["apprehension_place"]["name"] == PLACE
    assert view["apprehension_place"]["kind"] == "inland"
    history = (await api.http.get(f"/cases/{case_id}/events", headers=auditor)).json()
    texts = {e["type"]: e["texts"] for e in history["events"] if e["texts"]}
    assert texts == {
        "CaseOpened": {"apprehension_place": PLACE},
        "ReplyLimitExtended": {"reasons": [EXTENSION]},
        "ApplicationRefused": {"reasons": [REFUSAL]},
    }
    # ...while the stored events (and Temporal's history, tests/temporal/test_erasure.py) hold
    # only its seals
    stored = str([e["data"] for e in history["events"]])
    assert not any(text in stored for text in WRITTEN)
    rows = await api.pool.fetch("SELECT data::text FROM case_events WHERE stream_id = $1", case_id)
    assert not any(text in r[0] for r in rows for text in WRITTEN)

    assert await vault.erase([case_id], datetime.now(UTC), "test: erasure") == [case_id]

    view = (await api.http.get(f"/cases/{case_id}", headers=anna)).json()
    assert view["refusal_reasons"] == {"erased": True}
    assert view["apprehension_place"]["name"] == {"erased": True}
    assert view["apprehension_place"]["kind"] == "inland"  # what the rules read stays
    history = (await api.http.get(f"/cases/{case_id}/events", headers=auditor)).json()
    assert [e["texts"] for e in history["events"] if e["texts"]] == [
        {"apprehension_place": {"erased": True}},
        {"reasons": {"erased": True}},
        {"reasons": {"erased": True}},
    ]
    for path in ("", "/events", "/state"):
        answer = await api.http.get(f"/cases/{case_id}{path}", headers=auditor)
        assert answer.status_code == 200, (path, answer.text)
        assert not any(text in answer.text for text in WRITTEN), path


async def test_notes_are_sealed_and_clients_cannot_send_a_sealed_place(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    case_id = await opened_case(api, anna)
    accepted = await api.http.post(f"/cases/{case_id}/accept", json={"note": NOTE}, headers=olena)
    assert accepted.status_code == 200, accepted.text
    history = (await api.http.get(f"/cases/{case_id}/events", headers=anna)).json()
    [note] = [e for e in history["events"] if e["type"] == "ApplicationAccepted"]
    assert note["texts"] == {"note": NOTE}
    assert NOTE not in str(note["data"]) and "sealed" in note["data"]["note"]

    forged = {"kind": "inland", "name": {"sealed": "v1.AAAAAAAAAAAAAAAAAAAAAAAA"}}
    refused = await api.http.post(
        "/cases", json=application_body(apprehension_place=forged), headers=anna
    )
    assert refused.status_code == 422, refused.text
    assert "the server seals it" in refused.text
