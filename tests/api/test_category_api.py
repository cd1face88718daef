"""Categories of person over HTTP: the shipped EU-UA submission window binds third-country
nationals and stateless persons, never an own national; an unknown category is invalid input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_harness import Api
from factories import application_body

pytestmark = pytest.mark.temporal


async def open_case(api: Api, who: dict[str, str], category: str, known_days: int) -> str:
    known = (datetime.now(UTC) - timedelta(days=known_days)).isoformat()
    body = application_body(category=category, knowledge_at=known)
    opened = await api.http.post("/cases", json=body, headers=who)
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    return case_id


async def view(api: Api, who: dict[str, str], case_id: str) -> dict[str, Any]:
    answer = await api.http.get(f"/cases/{case_id}", headers=who)
    assert answer.status_code == 200, answer.text
    shown: dict[str, Any] = answer.json()
    return shown


async def test_the_window_binds_foreigners_and_never_an_own_national(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")

    own = await open_case(api, anna, "own_national", known_days=730)
    assert (await view(api, anna, own))["deadlines"] == {}
    submitted = await api.http.post(f"/cases/{own}/submit", json={}, headers=anna)
    assert submitted.status_code == 200, submitted.text

    recent = await open_case(api, anna, "stateless", known_days=30)
    shown = await view(api, anna, recent)
    window = shown["deadlines"]["submission"]
    assert shown["category"] == "stateless" and window["running"]
    assert "stateless person" in window["source"]
    submitted = await api.http.post(f"/cases/{recent}/submit", json={}, headers=anna)
    assert submitted.status_code == 200, submitted.text

    late = await open_case(api, anna, "stateless", known_days=730)
    for _ in range(100):  # the window passed a year ago: the case lapses as soon as it opens
        if (await view(api, anna, late))["status"] == "closed":  # lapsed, then closed by itself
            break
        await asyncio.sleep(0.05)
    shown = await view(api, anna, late)
    assert shown["status"] == "closed" and shown["overdue"] == []
    history = (await api.http.get(f"/cases/{late}/events", headers=anna)).json()["events"]
    assert [e["type"] for e in history][-2:] == ["LimitLapsed", "CaseClosed"]
    assert history[-1]["data"]["outcome"] == "lapsed"
    refused = await api.http.post(f"/cases/{late}/submit", json={}, headers=anna)
    assert refused.status_code == 409, refused.text


async def test_an_unknown_category_is_invalid_input(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    answer = await api.http.post("/cases", json=application_body(category="refugee"), headers=anna)
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert [e["field"] for e in errors] == ["category"]
    assert "'stateless'" in errors[0]["message"]
