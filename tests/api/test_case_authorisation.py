"""The API authorises a caller from the case's parties (the read model's row, or the workflow's
view while the row is not yet projected), without reading or folding the case's stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_harness import Api
from factories import application_body

pytestmark = pytest.mark.temporal

OPEN = application_body(knowledge_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
PROBLEM = "application/problem+json"


async def open_case(api: Api) -> str:
    answer = await api.http.post("/cases", json=OPEN, headers=api.as_("anna.pl", "officer", "PL"))
    assert answer.status_code == 201, answer.text
    case_id: str = answer.json()["case_id"]
    return case_id


async def test_a_command_is_authorised_without_reading_the_stream(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await open_case(api)

    async def no_stream(*_: Any, **__: Any) -> Any:
        raise AssertionError("the stream was read to authorise a command")

    monkeypatch.setattr(api.services.store, "read_stream", no_stream)
    submit = f"/cases/{case_id}/submit"
    olena = api.as_("olena.ua", "officer", "UA")
    not_yet = await api.http.post(submit, json={}, headers=olena)  # a draft: UA does not know it
    assert not_yet.status_code == 404 and not_yet.json()["type"].endswith("/case-not-found")
    stranger = await api.http.post(submit, json={}, headers=api.as_("hans.de", "officer", "DE"))
    assert stranger.status_code == 404 and stranger.json()["type"].endswith("/case-not-found")
    done = await api.http.post(submit, json={}, headers=api.as_("anna.pl", "officer", "PL"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "received"  # delivered on submission
    withdraw = f"/cases/{case_id}/withdraw"
    wrong_side = await api.http.post(withdraw, json={"reasons": ["no"]}, headers=olena)
    assert wrong_side.status_code == 403 and wrong_side.headers["content-type"] == PROBLEM


async def test_a_case_not_yet_projected_is_authorised_from_its_workflow(api: Api) -> None:
    """Its parties and whether it was submitted (until then the requested state does not
    know it) come from the workflow's view."""
    case_id = await open_case(api)
    unproject = "DELETE FROM cases WHERE case_id = $1"  # as if not projected
    await api.pool.execute(unproject, case_id)
    anna = api.as_("anna.pl", "officer", "PL")
    olena, hans = api.as_("olena.ua", "officer", "UA"), api.as_("hans.de", "officer", "DE")
    assert (await api.http.get(f"/cases/{case_id}", headers=anna)).status_code == 200
    assert (await api.http.get(f"/cases/{case_id}", headers=olena)).status_code == 404  # a draft
    assert (await api.http.get(f"/cases/{case_id}", headers=hans)).status_code == 404
    submit = f"/cases/{case_id}/submit"
    assert (await api.http.post(submit, json={}, headers=olena)).status_code == 404
    assert (await api.http.post(submit, json={}, headers=hans)).status_code == 404
    done = await api.http.post(submit, json={}, headers=anna)
    assert done.status_code == 200, done.text
    await api.pool.execute(unproject, case_id)
    assert (await api.http.get(f"/cases/{case_id}", headers=olena)).status_code == 200
    assert (await api.http.get(f"/cases/{case_id}", headers=hans)).status_code == 404


async def test_a_case_nobody_opened_is_not_found(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    for method, path in (("GET", ""), ("GET", "/events"), ("POST", "/submit")):
        answer = await api.http.request(
            method, f"/cases/PL-UA-2027-999999{path}", json={}, headers=anna
        )
        assert answer.status_code == 404, (path, answer.text)
        assert answer.headers["content-type"] == PROBLEM
