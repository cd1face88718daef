"""An Idempotency-Key whose request died unanswered (its answer and its clean-up both lost, as
when PostgreSQL goes away mid-request) is not stuck for ever: a retry takes it over once the
reservation is older than any request can run; a fresh one still means "in progress"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_harness import Api
from factories import application_body

pytestmark = pytest.mark.temporal


async def test_a_reservation_left_unanswered_is_taken_over_when_stale(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    opened = await api.http.post(
        "/cases", json=application_body(knowledge_at=knowledge), headers=anna
    )
    case_id = opened.json()["case_id"]
    headers = {**anna, "Idempotency-Key": "submit-1"}
    first = await api.http.post(f"/cases/{case_id}/submit", json={}, headers=headers)
    assert first.status_code == 200, first.text

    async def left_unanswered(age: timedelta) -> None:
        await api.pool.execute(
            "UPDATE idempotency_keys SET status_code = NULL, response = NULL,"
            " created_at = now() - $2::interval WHERE key = $1",
            "submit-1",
            age,
        )

    await left_unanswered(timedelta(seconds=5))  # its request may still be running
    busy = await api.http.post(f"/cases/{case_id}/submit", json={}, headers=headers)
    assert busy.status_code == 409 and busy.json()["title"] == "Request in progress"

    await left_unanswered(timedelta(minutes=10))  # no request runs that long: it died
    again = await api.http.post(f"/cases/{case_id}/submit", json={}, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["version"] == first.json()["version"]  # the command ran once
    kept = await api.pool.fetchval(
        "SELECT status_code FROM idempotency_keys WHERE key = 'submit-1'"
    )
    assert kept == 200
