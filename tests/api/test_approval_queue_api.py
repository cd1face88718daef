"""Replies awaiting approval over the API (issue 17), where Ukraine's replies under EU-UA await
a supervisor's approval: `GET /cases?awaiting_approval=true` lists the requested state's drafted
cases to its supervisors, officers and auditors, and nothing to the requesting state (whose
`false` lists its cases as if no draft existed); `GET /workload` counts them per state; a
return or the approval empties the queue; a bad value is problem+json."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import Api
from test_reply_approval_api import problem, received_case, require_approval

pytestmark = pytest.mark.temporal


async def listed(api: Api, headers: dict[str, str], flag: str = "true") -> set[str]:
    answer = await api.http.get("/cases", params={"awaiting_approval": flag}, headers=headers)
    assert answer.status_code == 200, answer.text
    return {c["case_id"] for c in answer.json()["items"]}


async def awaiting(api: Api, headers: dict[str, str]) -> Any:
    answer = await api.http.get("/workload", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["awaiting_approval"]


async def test_the_requested_state_s_queue_and_count(api: Api) -> None:
    require_approval(api)
    drafted, other = await received_case(api), await received_case(api)
    olena, taras = api.as_("olena.ua", "officer", "UA"), api.as_("taras.ua", "supervisor", "UA")
    anna, piotr = api.as_("anna.pl", "officer", "PL"), api.as_("piotr.pl", "supervisor", "PL")
    ua_auditor = api.as_("audit.ua", "auditor", None, ("UA",))
    pl_auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    both = api.as_("audit.eu", "auditor", None, ("PL", "UA"))
    assert await listed(api, taras) == set() and await awaiting(api, taras) == 0

    answer = await api.http.post(f"/cases/{drafted}/accept", json={}, headers=olena)
    assert answer.status_code == 202, answer.text
    for caller in (taras, olena, ua_auditor, both):
        assert await listed(api, caller) == {drafted}
    assert await listed(api, taras, "false") >= {other}
    assert drafted not in await listed(api, taras, "false")
    assert await awaiting(api, taras) == 1 and await awaiting(api, ua_auditor) == 1
    # the requesting state never learns of the draft: not listed, not counted, not excluded
    for caller in (anna, piotr, pl_auditor):
        assert await listed(api, caller) == set()
        assert {drafted, other} <= await listed(api, caller, "false")
    assert await awaiting(api, piotr) == 0 and await awaiting(api, pl_auditor) == 0
    for caller, flagged in ((taras, True), (ua_auditor, True), (anna, False), (pl_auditor, False)):
        items = (await api.http.get("/cases", headers=caller)).json()["items"]
        assert {c["case_id"]: c["awaiting_approval"] for c in items}[drafted] is flagged

    back = await api.http.post(
        f"/cases/{drafted}/reply/return", json={"reasons": ["cite"]}, headers=taras
    )
    assert back.status_code == 200, back.text
    assert await listed(api, taras) == set() and await awaiting(api, taras) == 0
    again = await api.http.post(f"/cases/{drafted}/accept", json={}, headers=olena)
    assert again.status_code == 202, again.text
    assert await listed(api, taras) == {drafted}
    approved = await api.http.post(f"/cases/{drafted}/reply/approve", json={}, headers=taras)
    assert approved.status_code == 200, approved.text
    assert await listed(api, taras) == set() and await awaiting(api, taras) == 0


async def test_a_bad_value_is_problem_json(api: Api) -> None:
    taras = api.as_("taras.ua", "supervisor", "UA")
    answer = await api.http.get("/cases", params={"awaiting_approval": "maybe"}, headers=taras)
    problem(answer, 422)
    admin = api.as_("root.pl", "admin", "PL")
    answer = await api.http.get("/cases", params={"awaiting_approval": "true"}, headers=admin)
    problem(answer, 403)
