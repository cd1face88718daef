"""The workload per officer over the API (`GET /workload`, issue 17): a state's supervisors and
auditors see how many open cases each of its officers holds on the state's side and how many
are unassigned; officers and administrators get 403; a draft is not counted on the requested
side (it does not know the case). The overdue and due-soon counting: tests/unit/test_workload.py."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import Api
from test_assignment_api import OPEN, directory, submitted_case

pytestmark = pytest.mark.temporal


def loads(body: dict[str, Any]) -> dict[str | None, int]:
    """Open cases per officer (None: unassigned), officers holding none left out."""
    found = {o["officer"]: o["cases"] for o in body["officers"] if o["cases"]}
    return found | {None: body["unassigned"]["cases"]}


async def test_supervisors_see_their_states_workload(api: Api) -> None:
    await directory(api)
    anna = api.as_("anna.pl", "officer", "PL")
    piotr = api.as_("piotr.pl", "supervisor", "PL")
    taras = api.as_("taras.ua", "supervisor", "UA")
    first, second, _third = [await submitted_case(api) for _ in range(3)]
    draft = await api.http.post("/cases", json=OPEN, headers=anna)
    assert draft.status_code == 201, draft.text
    for case_id in (first, second):
        answer = await api.http.post(f"/cases/{case_id}/claim", json={}, headers=anna)
        assert answer.status_code == 200, answer.text
    answer = await api.http.post(
        f"/cases/{first}/assign", json={"officer": "olena.ua"}, headers=taras
    )
    assert answer.status_code == 200, answer.text

    pl = await api.http.get("/workload", headers=piotr)
    assert pl.status_code == 200, pl.text
    body = pl.json()
    assert body["state"] == "PL" and body["soon_working_days"] == 2
    assert loads(body) == {"anna.pl": 2, None: 2}  # the two others, the draft one of them
    # every active officer and supervisor of the state is listed, none of another's
    assert [o["officer"] for o in body["officers"]] == ["anna.pl", "marek.pl", "piotr.pl"]
    assert all(o["overdue"] == 0 and o["due_soon"] == 0 for o in body["officers"])

    ua = (await api.http.get("/workload", headers=taras)).json()
    assert loads(ua) == {"olena.ua": 1, None: 2}  # the draft is PL's alone
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    assert loads((await api.http.get("/workload", headers=auditor)).json()) == loads(body)


async def test_officers_and_other_states_are_refused(api: Api) -> None:
    def problem(answer: Any, status: int) -> None:
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")

    piotr = api.as_("piotr.pl", "supervisor", "PL")
    problem(await api.http.get("/workload", headers=api.as_("anna.pl", "officer", "PL")), 403)
    problem(await api.http.get("/workload", headers=api.as_("root.pl", "admin", "PL")), 403)
    problem(await api.http.get("/workload", params={"state": "UA"}, headers=piotr), 403)
    problem(await api.http.get("/workload", params={"state": "ua"}, headers=piotr), 422)
    every = api.as_("audit.all", "auditor", None, ("*",))
    problem(await api.http.get("/workload", headers=every), 422)  # which state?
    answer = await api.http.get("/workload", params={"state": "UA"}, headers=every)
    assert answer.status_code == 200, answer.text
