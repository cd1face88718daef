"""A case from opening to closing over HTTP, as two officers of different states, then read by
an auditor: the end-to-end path of the API with real PostgreSQL, Temporal and workers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_harness import Api
from factories import application_body

pytestmark = pytest.mark.temporal

OPEN = application_body()


async def test_case_from_opening_to_closing(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    now = datetime.now(UTC)
    opened = await api.http.post(
        "/cases",
        json={**OPEN, "knowledge_at": (now - timedelta(days=2)).isoformat()},
        headers={**anna, "Idempotency-Key": "open-1"},
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    assert case_id.startswith(f"PL-UA-{now.year}-")
    again = await api.http.post(
        "/cases",
        json={**OPEN, "knowledge_at": (now - timedelta(days=2)).isoformat()},
        headers={**anna, "Idempotency-Key": "open-1"},
    )
    assert again.json() == opened.json()  # a retried request opens nothing new

    async def post(
        path: str, who: dict[str, str], body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        answer = await api.http.post(f"/cases/{case_id}{path}", json=body or {}, headers=who)
        assert answer.status_code == 200, answer.text
        reply: dict[str, Any] = answer.json()
        return reply

    submitted = await post("/submit", anna)
    assert submitted["status"] == "received"  # delivered on submission: that is the receipt
    delivered = (await api.http.get(f"/cases/{case_id}", headers=olena)).json()
    reply = delivered["deadlines"]["reply"]
    assert reply["counted_from"] == "delivery" and reply["running"]
    instants = {reply["triggered_at"], delivered["received_at"], delivered["submitted_at"]}
    assert len({datetime.fromisoformat(i) for i in instants}) == 1
    assert delivered["acknowledged_at"] is None and "confirm_receipt" in delivered["next_actions"]
    refused = await api.http.post(f"/cases/{case_id}/accept", json={}, headers=anna)
    assert refused.status_code == 403  # the requesting side cannot accept
    await post("/receipt", olena)
    acknowledged = (await api.http.get(f"/cases/{case_id}", headers=anna)).json()
    assert acknowledged["acknowledged_at"] is not None  # both sides see it
    assert acknowledged["deadlines"]["reply"] == reply  # and it moved nothing
    twice = await api.http.post(f"/cases/{case_id}/receipt", json={}, headers=olena)
    assert twice.status_code == 409, twice.text
    assert twice.headers["content-type"].startswith("application/problem+json")
    listed = (await api.http.get("/cases", headers=olena)).json()["items"]
    assert [c["case_id"] for c in listed] == [case_id]
    assert listed[0]["next_limit"] == "reply" and listed[0]["person"] == "SHEVCHENKO O., 1990"
    view = (await api.http.get(f"/cases/{case_id}", headers=olena)).json()
    assert "accept" in view["next_actions"] and view["deadlines"]["reply"]["running"]
    assert (await post("/accept", olena))["status"] == "accepted"
    on = (now + timedelta(days=5)).isoformat()
    await post("/transfer", anna, {"on": on, "bcp": "Medyka-Shehyni", "mode": "land"})
    await api.env.sleep(5 * 86400)
    await post("/transfer/complete", anna)
    closed = await post("/close", anna)
    assert closed["status"] == "closed"

    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    history = (await api.http.get(f"/cases/{case_id}/events", headers=auditor)).json()
    types = [e["type"] for e in history["events"]]
    assert types[0] == "CaseOpened" and types[-1] == "CaseClosed"
    assert history["events"][1]["type"] == "ApplicationSubmitted"  # an own national: no window
    assert history["events"][1]["actor"] == {"user_id": "anna.pl", "state": "PL", "role": "officer"}
    verified = (await api.http.get(f"/cases/{case_id}/verify", headers=auditor)).json()
    assert verified["ok"] and verified["checked"] == len(types)
    earlier = (
        await api.http.get(f"/cases/{case_id}/state", params={"version": 2}, headers=auditor)
    ).json()
    assert earlier["state"]["status"] == "submitted"
    write = await api.http.post(f"/cases/{case_id}/close", json={}, headers=auditor)
    assert write.status_code == 403
    log = await api.pool.fetch(
        "SELECT user_id, purpose FROM disclosure_log WHERE case_id = $1", case_id
    )
    assert ("audit.pl", "history") in {(r["user_id"], r["purpose"]) for r in log}
