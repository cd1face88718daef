"""`GET /stats`: the statistics as JSON, from cases walked through the API. Whose cases each
caller counts (its state's; an auditor its states'), the breakdowns per month, procedure,
crossing point and verification outcome, the filters, and bad input as problem+json."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from api_harness import Api
from factories import application_body

pytestmark = pytest.mark.temporal

ANNA = ("anna.pl", "officer", "PL")
OLENA = ("olena.ua", "officer", "UA")
HANS = ("hans.de", "officer", "DE")
BCP = "Medyka-Shehyni"


def counts(rows: list[dict[str, Any]], *keys: str) -> dict[str | None, tuple[int, ...]]:
    """A breakdown's rows by value: the figures named by `keys`."""
    return {row["value"]: tuple(row[k] for k in keys) for row in rows}


class Walk:
    """Cases opened and moved through the API."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def post(self, who: tuple[str, str, str], path: str, body: Any = None) -> Any:
        answer = await self.api.http.post(path, json=body or {}, headers=self.api.as_(*who))
        assert answer.status_code in (200, 201), (path, answer.text)
        return answer.json()

    async def open(self, who: tuple[str, str, str] = ANNA, **changes: Any) -> str:
        knowledge = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        opened = await self.post(who, "/cases", application_body(knowledge_at=knowledge, **changes))
        case_id: str = opened["case_id"]
        return case_id

    async def submitted(self, who: tuple[str, str, str] = ANNA, **changes: Any) -> str:
        case_id = await self.open(who, **changes)
        await self.post(who, f"/cases/{case_id}/submit")
        return case_id


@pytest.fixture
async def walked(api: Api) -> dict[str, str]:
    """PL→UA: refused after a verification that did not confirm; accepted after one that did,
    its transfer scheduled at a crossing point; an accelerated case awaiting its reply (the
    registry's check on submission did not confirm it); a draft. DE→UA: one submitted case,
    no business of PL's."""
    walk = Walk(api)
    refused = await walk.submitted()
    await walk.post(
        OLENA, f"/cases/{refused}/verification", {"status": "not_confirmed", "score": "0.2"}
    )
    await walk.post(OLENA, f"/cases/{refused}/refuse", {"reasons": ["not a national of UA"]})
    accepted = await walk.submitted()
    await walk.post(
        OLENA, f"/cases/{accepted}/verification", {"status": "confirmed", "score": "0.95"}
    )
    await walk.post(OLENA, f"/cases/{accepted}/accept")
    on = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    await walk.post(ANNA, f"/cases/{accepted}/transfer", {"on": on, "bcp": BCP, "mode": "land"})
    accelerated = await walk.submitted(
        procedure="accelerated",
        apprehended_at=(datetime.now(UTC) - timedelta(hours=5)).isoformat(),
        apprehension_place={"kind": "land_border", "km_from_border": "5"},
    )
    draft = await walk.open()
    german = await walk.submitted(HANS)
    await api.services.projector.catch_up()
    return {
        "refused": refused,
        "accepted": accepted,
        "accelerated": accelerated,
        "draft": draft,
        "german": german,
    }


async def stats(api: Api, who: tuple[str, ...], **params: str) -> dict[str, Any]:
    user, role, state, *states = who
    answer = await api.http.get(
        "/stats", params=params, headers=api.as_(user, role, state or None, tuple(states))
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def month_of(api: Api, case_id: str, zone: str) -> str:
    shown = await api.http.get(f"/cases/{case_id}", headers=api.as_(*ANNA))
    return (
        datetime.fromisoformat(shown.json()["opened_at"])
        .astimezone(ZoneInfo(zone))
        .strftime("%Y-%m")
    )


async def test_the_requesting_states_figures(api: Api, walked: dict[str, str]) -> None:
    body = await stats(api, ANNA)
    assert body["kind"] == "readmission" and body["time_zone"] == "Europe/Warsaw"
    assert [(g["agreement"], g["counterpart"], g["cases"]) for g in body["groups"]] == [
        ("EU-UA", "UA", 4)  # not DE's case
    ]
    total = body["total"]
    assert total["cases"] == 4 and total["replies"] == 2 and total["deemed"] == 0
    # a refused case closes at once: its refusal is counted from its events, not its status
    assert total["by_status"] == {"draft": 1, "received": 1, "closed": 1, "transfer_scheduled": 1}
    month = await month_of(api, walked["refused"], "Europe/Warsaw")
    figures = ("cases", "replies", "acceptances", "refusals", "deemed", "transfers")
    assert counts(body["by_month"], *figures) == {month: (4, 2, 1, 1, 0, 0)}
    assert counts(body["by_procedure"], "cases", "replies") == {
        "accelerated": (1, 0),
        "standard": (3, 2),
    }
    assert counts(body["by_crossing_point"], "cases", "acceptances") == {
        BCP: (1, 1),
        None: (3, 0),
    }
    # the registry's check on submission, or the officer's verification after it
    assert counts(body["by_verification"], "cases", "acceptances", "refusals") == {
        "confirmed": (1, 1, 0),
        "not_confirmed": (2, 0, 1),
        None: (1, 0, 0),  # the draft
    }


async def test_each_caller_counts_its_own_states_cases(api: Api, walked: dict[str, str]) -> None:
    ua = await stats(api, OLENA)  # the three PL cases submitted to it, and DE's; no PL draft
    assert [(g["counterpart"], g["cases"]) for g in ua["groups"]] == [("DE", 1), ("PL", 3)]
    assert ua["total"]["cases"] == 4 and "draft" not in ua["total"]["by_status"]
    assert ua["time_zone"] == "Europe/Kyiv"
    auditor_pl = await stats(api, ("audit.pl", "auditor", "", "PL"))
    assert auditor_pl["total"]["cases"] == 4 and auditor_pl["time_zone"] == "UTC"
    assert auditor_pl["by_verification"] == (await stats(api, ANNA))["by_verification"]
    auditor_de = await stats(api, ("audit.de", "auditor", "", "DE"))
    assert auditor_de["total"]["cases"] == 1
    assert counts(auditor_de["by_procedure"], "cases") == {"standard": (1,)}
    everyone = await stats(api, ("audit.all", "auditor", "", "*"))
    assert everyone["total"]["cases"] == 5
    assert {g["counterpart"] for g in everyone["groups"]} == {"PL→UA", "DE→UA"}
    romania = await stats(api, ("ion.ro", "officer", "RO"))
    assert romania["total"]["cases"] == 0 and romania["groups"] == []
    assert all(romania[f"by_{d}"] == [] for d in ("month", "procedure", "crossing_point"))


async def test_filters(api: Api, walked: dict[str, str]) -> None:
    today = datetime.now(ZoneInfo("Europe/Warsaw")).date()
    later = await stats(api, ANNA, **{"from": (today + timedelta(days=1)).isoformat()})
    assert later["total"]["cases"] == 0 and later["by_month"] == []
    until = (today + timedelta(days=1)).isoformat()
    period = await stats(
        api, ANNA, **{"from": (today - timedelta(days=3)).isoformat(), "to": until}
    )
    assert period["total"]["cases"] == 4 and period["to"] == until
    ever = await stats(api, ANNA, **{"from": "0001-01-01", "to": "9999-12-31"})
    assert ever["total"]["cases"] == 4  # the calendar's ends leave the period open
    assert (await stats(api, ANNA, agreement="eu-md"))["total"]["cases"] == 0
    assert (await stats(api, ANNA, agreement="EU-UA"))["agreement"] == "EU-UA"
    transit = await stats(api, ANNA, kind="transit")
    assert transit["kind"] == "transit" and transit["total"]["cases"] == 0


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"from": "2027-02-30"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "86400"}, "from"),  # not seconds since 1970
        ({"from": "2027-03-02", "to": "2027-03-01"}, "to"),
        ({"kind": "deportation"}, "kind"),
        ({"agreement": "EU UA"}, "agreement"),
    ],
)
async def test_bad_input_is_a_problem(api: Api, params: dict[str, str], names: str) -> None:
    answer = await api.http.get("/stats", params=params, headers=api.as_(*ANNA))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert names in answer.text


async def test_administrators_and_strangers(api: Api) -> None:
    admin = await api.http.get("/stats", headers=api.as_("root.pl", "admin", "PL"))
    assert admin.status_code == 403
    assert admin.headers["content-type"].startswith("application/problem+json")
    assert (await api.http.get("/stats")).status_code == 401


async def test_the_page_and_its_csv_show_the_breakdowns(api: Api, walked: dict[str, str]) -> None:
    cookie = await api.session(*ANNA)
    headers = {"Cookie": f"readmit_session={cookie}"}
    page = await api.http.get("/ui/stats", headers=headers)
    assert page.status_code == 200
    for table in ("by-month", "by-procedure", "by-crossing-point", "by-verification"):
        assert f'id="{table}"' in page.text, table
    assert BCP in page.text
    csv_answer = await api.http.get(
        "/ui/stats.csv", params={"table": "breakdowns"}, headers=headers
    )
    assert csv_answer.status_code == 200
    lines = csv_answer.text.splitlines()
    assert lines[0] == "dimension,value,cases,replies,acceptances,refusals,deemed,transfers,kind"
    assert f"crossing_point,{BCP},1,1,1,0,0,0,readmission" in lines
    assert "verification,not_confirmed,2,1,0,1,0,0,readmission" in lines
    wrong = await api.http.get("/ui/stats.csv", params={"table": "people"}, headers=headers)
    assert wrong.status_code == 422
