"""Over HTTP, a case's personal data is shown opened while its key exists, and as erased after."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from api_harness import Api
from factories import application_body

from adapters.db.projector import ERASED_SUMMARY
from adapters.protection.vault import PersonalDataVault

pytestmark = pytest.mark.temporal

OPEN = application_body(
    person={
        "surname": "Melnyk",
        "given_names": "Halyna",
        "birth_date": "1987-11-02",
        "address": "vul. Sadova 7, Zhytomyr",
    },
    evidence=[{"kind": "passport", "number": "FB765432"}],
)
PERSONAL = ("Melnyk", "MELNYK", "Halyna", "1987-11-02", "Sadova", "FB765432")


async def test_personal_data_reads_as_erased_once_the_key_is_gone(
    api: Api, vault: PersonalDataVault
) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    opened = await api.http.post("/cases", json={**OPEN, "knowledge_at": knowledge}, headers=anna)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    assert (await api.http.post(f"/cases/{case_id}/submit", json={}, headers=anna)).is_success

    view = (await api.http.get(f"/cases/{case_id}", headers=anna)).json()
    assert view["person"]["surname"] == "Melnyk"
    assert view["evidence"][0]["item"]["number"] == "FB765432"
    listed = (await api.http.get("/cases", headers=anna)).json()["items"]
    assert listed[0]["person"] == "MELNYK H., 1987"
    stored = (await api.http.get(f"/cases/{case_id}/events", headers=auditor)).text
    assert not any(p in stored for p in PERSONAL)  # the stored events hold only seals

    assert await vault.erase([case_id], datetime.now(UTC), "test: erasure") == [case_id]

    view = (await api.http.get(f"/cases/{case_id}", headers=anna)).json()
    assert view["person"] == {"erased": True}
    assert view["evidence"][0]["item"] == {
        "kind": "passport",
        "number": None,
        "issued_by": None,
        "issued_on": None,
        "valid_until": None,
        "mrz": [],
        "description": None,
        "erased": True,
    }
    assert view["status"] == "received"  # everything else about the case is still there
    listed = (await api.http.get("/cases", headers=anna)).json()["items"]
    assert listed[0]["person"] == ERASED_SUMMARY
    as_of = (await api.http.get(f"/cases/{case_id}/state?version=1", headers=auditor)).json()
    assert as_of["state"]["person"] == {"erased": True}
    for path in ("", "/events", "/state", "/verify"):
        answer = await api.http.get(f"/cases/{case_id}{path}", headers=auditor)
        assert answer.status_code == 200, (path, answer.text)
        assert not any(p in answer.text for p in PERSONAL), path
    assert (await api.http.get(f"/cases/{case_id}/verify", headers=auditor)).json()["ok"]


async def test_personal_data_sent_to_an_erased_case_is_gone_not_an_error(
    api: Api, vault: PersonalDataVault
) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    opened = await api.http.post("/cases", json={**OPEN, "knowledge_at": knowledge}, headers=anna)
    case_id = opened.json()["case_id"]
    assert (await api.http.post(f"/cases/{case_id}/submit", json={}, headers=anna)).is_success
    await vault.erase([case_id], datetime.now(UTC), "test: erasure")
    olena = api.as_("olena.ua", "officer", "UA")
    added = await api.http.post(  # reasons are sealed with the case key, which is gone
        f"/cases/{case_id}/verification",
        json={"status": "confirmed", "score": "0.9", "reasons": ["passport FB765432 matches"]},
        headers=olena,
    )
    assert added.status_code == 410, added.text
    assert added.headers["content-type"].startswith("application/problem+json")
    assert added.json()["type"].endswith("data-erased")


async def test_evidence_added_later_is_sealed_and_clients_cannot_send_seals(
    api: Api,
) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    opened = await api.http.post("/cases", json={**OPEN, "knowledge_at": knowledge}, headers=anna)
    case_id = opened.json()["case_id"]
    added = await api.http.post(
        f"/cases/{case_id}/evidence",
        json={"items": [{"kind": "id_card", "number": "IC998877", "description": "Halyna's"}]},
        headers=anna,
    )
    assert added.status_code == 200, added.text
    view = (await api.http.get(f"/cases/{case_id}", headers=anna)).json()
    assert [e["item"]["number"] for e in view["evidence"]] == ["FB765432", "IC998877"]
    stored = (await api.http.get(f"/cases/{case_id}/events", headers=auditor)).text
    assert "IC998877" not in stored and "Halyna" not in stored

    forged = {"kind": "passport", "sealed": {"sealed": "v1.AAAAAAAAAAAAAAAAAAAAAAAA"}}
    for path, body in (
        ("/cases", {**OPEN, "evidence": [forged]}),
        (f"/cases/{case_id}/evidence", {"items": [forged]}),
    ):
        refused = await api.http.post(path, json=body, headers=anna)
        assert refused.status_code == 422, refused.text
        assert "the server seals it" in refused.text


async def test_erasure_removes_attachments_and_their_download_says_so(
    api: Api, vault: PersonalDataVault
) -> None:
    from attachment_files import png

    anna = api.as_("anna.pl", "officer", "PL")
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    opened = await api.http.post("/cases", json={**OPEN, "knowledge_at": knowledge}, headers=anna)
    case_id = opened.json()["case_id"]
    scan = png(9)
    added = await api.http.post(
        f"/cases/{case_id}/attachments",
        files={"file": ("melnyk.png", scan, "image/png")},
        data={"description": "Halyna Melnyk's passport"},
        headers=anna,
    )
    assert added.status_code == 201, added.text
    download = added.json()["download"]
    assert (await api.http.get(download, headers=anna)).content == scan

    inside = "SELECT count(*) FROM case_attachments WHERE position($1::bytea in sealed) > 0"
    assert await api.pool.fetchval(inside, scan) == 0  # stored sealed, never in the clear
    assert (
        await api.pool.fetchval("SELECT count(*) FROM case_attachments WHERE case_id = $1", case_id)
        == 1
    )

    await vault.erase([case_id], datetime.now(UTC), "test: erasure")

    # the stored file is gone with the key, and no row anywhere holds its bytes
    assert (
        await api.pool.fetchval("SELECT count(*) FROM case_attachments WHERE case_id = $1", case_id)
        == 0
    )
    assert await api.pool.fetchval(inside, scan) == 0
    history = await api.pool.fetch(
        "SELECT data::text FROM case_events WHERE stream_id = $1", case_id
    )
    encodings = (scan.hex(), base64.b64encode(scan).decode(), "Melnyk's passport")
    assert not any(e in r["data"] for r in history for e in encodings)
    gone = await api.http.get(download, headers=anna)
    assert gone.status_code == 410, gone.text
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["type"].endswith("data-erased")
    unread = await api.http.post(f"{download}/mrz", headers=anna)  # nor is its MRZ read
    assert unread.status_code == 410 and unread.json()["type"].endswith("data-erased")
    late = await api.http.post(  # a file for an erased case has no key to be sealed with
        f"/cases/{case_id}/attachments",
        files={"file": ("x.png", png(10), "image/png")},
        headers=anna,
    )
    assert late.status_code == 410 and late.json()["type"].endswith("data-erased"), late.text
    assert (
        await api.pool.fetchval("SELECT count(*) FROM case_attachments WHERE case_id = $1", case_id)
        == 0
    )
    listed = (await api.http.get(f"/cases/{case_id}/attachments", headers=anna)).json()["items"]
    assert listed[0]["description"] == {"erased": True}  # the record stays, its words are gone
    assert "Melnyk" not in str(listed)
