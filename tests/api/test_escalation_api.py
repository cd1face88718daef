"""A supervisor acknowledges an escalation over the API (`POST /cases/{id}/escalations/
acknowledge`, issue 17): the reply limit's escalation to UA's supervisors is acknowledged by
one of them (an `EscalationAcknowledged` event, its actor the caller), while an officer gets
403 and a side with nothing to acknowledge 409, both problem+json and changing nothing. The
repeats that stop: tests/temporal/test_escalation_repeats.py."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from api_harness import Api
from test_assignment_api import directory, problem, submitted_case

from adapters.temporal.clock import advance_to

pytestmark = pytest.mark.temporal
PATH = "/cases/{}/escalations/acknowledge"


async def shown(api: Api, case_id: str, caller: dict[str, str]) -> dict[str, Any]:
    answer = await api.http.get(f"/cases/{case_id}", headers=caller)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def acknowledged(api: Api, case_id: str) -> list[tuple[str, str]]:
    rows = await api.pool.fetch(
        "SELECT data->>'limit' AS limit, metadata->>'actor' AS actor FROM case_events"
        " WHERE stream_id = $1 AND type = 'EscalationAcknowledged' ORDER BY version",
        case_id,
    )
    return [(r["limit"], r["actor"]) for r in rows]


async def test_a_supervisor_acknowledges_the_escalation(api: Api) -> None:
    await directory(api)
    case_id = await submitted_case(api)
    olena = api.as_("olena.ua", "officer", "UA")
    taras = api.as_("taras.ua", "supervisor", "UA")
    piotr = api.as_("piotr.pl", "supervisor", "PL")
    refused = problem(await api.http.post(PATH.format(case_id), json={}, headers=taras), 409)
    assert refused["domain_error"] == "NothingToAcknowledge"

    reply = (await shown(api, case_id, taras))["deadlines"]["reply"]
    # the escalation to UA's supervisors comes 12 hours before the reply limit ends
    await advance_to(api.env, datetime.fromisoformat(reply["due"]) - timedelta(hours=6))
    for _ in range(100):
        if (await shown(api, case_id, taras))["escalations_to_acknowledge"] == ["reply"]:
            break
        await asyncio.sleep(0.05)
    assert (await shown(api, case_id, taras))["escalations_to_acknowledge"] == ["reply"]
    assert (await shown(api, case_id, piotr))["escalations_to_acknowledge"] == []

    problem(await api.http.post(PATH.format(case_id), json={}, headers=olena), 403)
    problem(await api.http.post(PATH.format(case_id), json={}, headers=piotr), 409)  # PL's side
    problem(await api.http.post(PATH.format(case_id), json={"limit": "x"}, headers=taras), 422)
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    problem(await api.http.post(PATH.format(case_id), json={}, headers=auditor), 403)
    assert await acknowledged(api, case_id) == []

    answer = await api.http.post(PATH.format(case_id), json={}, headers=taras)
    assert answer.status_code == 200, answer.text
    assert [e["type"] for e in answer.json()["events"]] == ["EscalationAcknowledged"]
    assert answer.json()["status"] == "received"  # nothing happens to the case itself
    assert await acknowledged(api, case_id) == [("reply", "taras.ua")]
    assert (await shown(api, case_id, taras))["escalations_to_acknowledge"] == []
    again = problem(await api.http.post(PATH.format(case_id), json={}, headers=taras), 409)
    assert again["domain_error"] == "NothingToAcknowledge"
