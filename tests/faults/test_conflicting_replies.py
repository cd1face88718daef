"""Two officers of the requested state reply to the same case at the same instant: exactly one
reply wins, the other gets 409 problem+json naming the domain error, and the case records one
reply only. Ten rounds, the winner's command alternating, so a pass is not one lucky ordering."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
from fault_support import RunningApi, bearer, running_api
from temporalio.testing import WorkflowEnvironment

pytestmark = pytest.mark.temporal

ROUNDS = 10
REPLIES = {"accept": "ApplicationAccepted", "refuse": "ApplicationRefused"}
# what the winner's reply leaves: a refused case closes by itself, nothing more can happen to it
STATUS = {"accept": ("accepted",), "refuse": ("refused", "closed")}
WHO = ("olena.ua", "oksana.ua")


def body(reply: str) -> dict[str, Any]:
    return {"note": "documents verified"} if reply == "accept" else {"reasons": ["not ours"]}


def loser_problem(answer: httpx.Response) -> None:
    """A 409 problem document: the case refused the command (it was answered already), or the
    event store refused a stale append."""
    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == 409 and problem["title"] and problem["detail"]
    kind = problem["type"].rsplit("/", 1)[-1]
    assert kind in ("command-refused", "concurrency-conflict"), problem
    if kind == "command-refused":  # a refused case may have closed itself already
        assert problem["domain_error"] in ("WrongStatus", "CaseClosedError"), problem


async def race(api: RunningApi, case_id: str, first: str, second: str) -> None:
    """Both replies at once; then exactly one is recorded, by its sender, everywhere."""
    olena, oksana = bearer(WHO[0], "officer", "UA"), bearer(WHO[1], "officer", "UA")
    answers = await asyncio.gather(
        api.post(f"/cases/{case_id}/{first}", olena, body(first)),
        api.post(f"/cases/{case_id}/{second}", oksana, body(second)),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    won = 0 if answers[0].status_code == 200 else 1
    winner = (first, second)[won]
    assert answers[won].json()["status"] in STATUS[winner]
    loser_problem(answers[1 - won])

    rows = await api.pool.fetch(
        "SELECT type, metadata->>'actor' AS who FROM case_events"
        " WHERE stream_id = $1 AND type = ANY($2::text[]) ORDER BY version",
        case_id,
        list(REPLIES.values()),
    )
    assert [(r["type"], r["who"]) for r in rows] == [(REPLIES[winner], WHO[won])], rows
    view = await api.http.get(f"/cases/{case_id}", headers=olena)
    assert view.json()["status"] in STATUS[winner]
    listed = await api.pool.fetchval("SELECT status FROM cases WHERE case_id = $1", case_id)
    assert listed in STATUS[winner]


async def test_concurrent_conflicting_replies_one_wins_the_other_gets_409(
    time_env: WorkflowEnvironment, schema_dsn: str, pool: asyncpg.Pool
) -> None:
    async with running_api(time_env, schema_dsn, pool) as api:
        cases = await asyncio.gather(*(api.received_case() for _ in range(ROUNDS)))
        for round_, case_id in enumerate(cases):
            pair = ("accept", "refuse") if round_ % 2 == 0 else ("refuse", "accept")
            if round_ % 5 == 4:  # the same reply twice is a conflict as well
                pair = (pair[0], pair[0])
            await race(api, case_id, *pair)
