"""Notices go to the assignee first, end to end: once PL's side of a case is claimed, the
answer from UA reaches the claiming officer's inbox and no other PL officer's; a case nobody on
PL's side holds is told to every PL officer."""

from __future__ import annotations

import pytest
from api_harness import Api
from test_assignment_api import directory, submitted_case

pytestmark = pytest.mark.temporal


async def inbox_kinds(api: Api, caller: dict[str, str], case_id: str) -> list[str]:
    answer = await api.http.get("/inbox", headers=caller)
    assert answer.status_code == 200, answer.text
    return [i["kind"] for i in answer.json()["items"] if i["case_id"] == case_id]


async def test_the_assignee_hears_of_the_answer_first(api: Api) -> None:
    await directory(api)
    anna = api.as_("anna.pl", "officer", "PL")
    marek = api.as_("marek.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    held, shared = await submitted_case(api), await submitted_case(api)
    claimed = await api.http.post(f"/cases/{held}/claim", json={}, headers=anna)
    assert claimed.status_code == 200, claimed.text
    for case_id in (held, shared):
        accepted = await api.http.post(f"/cases/{case_id}/accept", json={}, headers=olena)
        assert accepted.status_code == 200, accepted.text

    assert "ApplicationAccepted" in await inbox_kinds(api, anna, held)
    assert "ApplicationAccepted" not in await inbox_kinds(api, marek, held)
    for caller in (anna, marek):
        assert "ApplicationAccepted" in await inbox_kinds(api, caller, shared)
