"""The statistics' figures from a hand-made `cases` read model in real PostgreSQL: what each
figure counts, whose cases they cover, and that the CSV says the same."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from adapters.db.eventstore import EventStore
from api.web.stats import (
    BREAKDOWN_CSV_HEADER,
    CSV_HEADER,
    Dimension,
    StatsFilter,
    breakdowns,
    breakdowns_csv,
    figures,
    to_csv,
)
from domain.stored import NewEvent

pytestmark = pytest.mark.db

T = datetime.fromisoformat("2027-03-01T10:00:00+01:00")
DAY = timedelta(days=1)


async def add_case(pool: asyncpg.Pool, case_id: str, **values: Any) -> None:
    requesting, requested = case_id.split("-")[:2]
    row: dict[str, Any] = {
        "case_id": case_id,
        "requesting": requesting,
        "requested": requested,
        "agreement_id": "EU-UA",
        "procedure": "standard",
        "category": "own_national",
        "status": "draft",
        "person_summary": "DOE J., 1990",
        "deadlines": {},
        "opened_at": T - 10 * DAY,
        "updated_at": T,
        "version": 1,
        "last_position": 0,
        **values,
    }
    if row["status"] != "draft" and "submitted_at" not in values:
        row["submitted_at"] = row["opened_at"] + DAY
    names = ", ".join(row)
    marks = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    await pool.execute(f"INSERT INTO cases ({names}) VALUES ({marks})", *row.values())


def due(at: datetime) -> dict[str, Any]:
    return {"due": at.isoformat(), "time_zone": "Europe/Kyiv", "calendar": "UA"}


async def deemed(pool: asyncpg.Pool, case_id: str) -> None:
    event = NewEvent(
        event_id=uuid.uuid4(),
        type="DeemedAccepted",
        schema_version=1,
        data={"at": (T + 14 * DAY).isoformat(), "limit": "reply"},
    )
    await EventStore(pool).append(case_id, 0, [event])


@pytest.fixture
async def read_model(pool: asyncpg.Pool) -> asyncpg.Pool:
    received = T
    reply_due = {"reply": due(T + 14 * DAY)}
    await add_case(
        pool,
        "PL-UA-2027-000001",
        status="accepted",
        received_at=received,
        replied_at=received + 3 * DAY,
        deadlines=reply_due,
    )
    await add_case(
        pool,
        "PL-UA-2027-000002",
        status="refused",
        received_at=received,
        replied_at=received + 20 * DAY,  # after its limit
        deadlines=reply_due,
    )
    await add_case(
        pool,
        "PL-UA-2027-000003",
        status="transfer_scheduled",
        received_at=received,
        replied_at=received + 14 * DAY + timedelta(seconds=1),
        deadlines=reply_due,
    )
    await deemed(pool, "PL-UA-2027-000003")
    await add_case(
        pool,
        "PL-UA-2027-000004",
        status="transferred",
        received_at=received,
        replied_at=received + 5 * DAY,
        transferred_at=T + 100 * DAY,
        deadlines={**reply_due, "transfer": due(T + 95 * DAY)},
    )
    await add_case(
        pool,
        "PL-UA-2027-000005",
        status="accepted",
        received_at=received,
        replied_at=received + 7 * DAY,
        overdue=True,
        overdue_limits=["transfer"],
        deadlines={"reply": due(T + 60 * DAY), "transfer": due(T + 30 * DAY)},
    )
    await add_case(pool, "UA-PL-2027-000001", status="submitted")
    await add_case(pool, "MD-RO-2027-000001", status="received", agreement_id="EU-MD")
    await add_case(pool, "PL-MD-2026-000009", status="closed", opened_at=T - 400 * DAY)
    return pool


async def test_figures_per_agreement_and_counterpart(read_model: asyncpg.Pool) -> None:
    groups = await figures(read_model, StatsFilter(states={"PL"}))
    by_key = {(g.agreement, g.counterpart): g for g in groups}
    assert list(by_key) == [("EU-UA", "MD"), ("EU-UA", "UA"), (None, None)]
    ua = by_key[("EU-UA", "UA")]
    assert ua.cases == 6  # both directions: PL asks UA, UA asks PL
    assert ua.by_status == {
        "accepted": 2,
        "refused": 1,
        "transfer_scheduled": 1,
        "transferred": 1,
        "submitted": 1,
    }
    assert ua.replies == 4  # the deemed acceptance is not a reply
    assert ua.deemed == 1
    assert ua.within_limit == 3 and ua.share_within_limit == 0.75
    assert ua.median_reply_days == pytest.approx(6.0)  # of 3, 5, 7 and 20 days
    assert ua.overdue_transfers == 2  # one late, one overdue now
    total = by_key[(None, None)]
    assert total.cases == 7 and total.by_status["closed"] == 1
    assert "MD-RO" not in str(groups)  # not a PL case


async def test_filters_and_an_auditor_of_every_state(read_model: asyncpg.Pool) -> None:
    recent = await figures(
        read_model, StatsFilter(states={"PL"}, opened_from=T - 30 * DAY, agreement="EU-UA")
    )
    assert [(g.agreement, g.counterpart, g.cases) for g in recent] == [
        ("EU-UA", "UA", 6),
        (None, None, 6),
    ]
    everywhere = await figures(read_model, StatsFilter(states={"*"}))
    pairs = [(g.agreement, g.counterpart) for g in everywhere if not g.is_total]
    assert pairs == [
        ("EU-MD", "MD→RO"),
        ("EU-UA", "PL→MD"),
        ("EU-UA", "PL→UA"),
        ("EU-UA", "UA→PL"),
    ]
    assert everywhere[-1].cases == 8
    nothing = await figures(read_model, StatsFilter(states={"DE"}))
    assert len(nothing) == 1 and nothing[0].cases == 0 and nothing[0].share_within_limit is None


async def test_the_csv_has_the_page_figures(read_model: asyncpg.Pool) -> None:
    groups = await figures(read_model, StatsFilter(states={"PL"}))
    rows = list(csv.DictReader(io.StringIO(to_csv(groups))))
    assert list(rows[0]) == list(CSV_HEADER)
    ua = next(r for r in rows if r["counterpart"] == "UA")
    assert ua["cases"] == "6" and ua["status_accepted"] == "2" and ua["status_draft"] == "0"
    assert ua["median_reply_days"] == "6.00" and ua["share_within_limit"] == "0.7500"
    assert ua["deemed_acceptances"] == "1" and ua["overdue_transfers"] == "2"
    assert rows[-1]["agreement"] == "all" and rows[-1]["cases"] == "7"


async def test_drafts_count_for_the_requesting_state_only(read_model: asyncpg.Pool) -> None:
    """A draft, and a draft withdrawn before submission, are figures of the requesting state
    (and of an auditor of every state); its requested state counts neither."""
    await add_case(read_model, "UA-PL-2027-000002")
    await add_case(read_model, "UA-PL-2027-000003", status="withdrawn", submitted_at=None)

    async def counted(*states: str) -> dict[str, int]:
        total = (await figures(read_model, StatsFilter(states=set(states))))[-1]
        return {status: n for status, n in total.by_status.items() if n}

    assert "draft" not in await counted("PL") and "withdrawn" not in await counted("PL")
    assert (await counted("PL"))["submitted"] == 1  # UA-PL-2027-000001, submitted to PL
    ua = await counted("UA")  # its own three, and the PL-UA cases submitted to it
    assert (ua["submitted"], ua["draft"], ua["withdrawn"]) == (1, 1, 1)
    everywhere = await counted("*")
    assert everywhere["draft"] == 1 and everywhere["withdrawn"] == 1


async def record(pool: asyncpg.Pool, case_id: str, *events: tuple[str, dict[str, Any]]) -> None:
    """Append `events` (type, data) to the case's stream, after what it holds."""
    store = EventStore(pool)
    version = len(await store.read_stream(case_id))
    await store.append(
        case_id,
        version,
        [
            NewEvent(event_id=uuid.uuid4(), type=kind, schema_version=1, data=data)
            for kind, data in events
        ],
    )


def plan(bcp: str) -> dict[str, Any]:
    return {"plan": {"on": (T + 30 * DAY).isoformat(), "bcp": bcp, "mode": "land"}}


async def test_breakdowns_per_month_procedure_crossing_point_and_verification(
    pool: asyncpg.Pool,
) -> None:
    """Months are the opening's in the caller's time zone, gaps between them listed; refusals
    and acceptances come from the events (a refused case closes); the crossing point is the
    latest plan's."""
    late_february = datetime.fromisoformat("2027-02-28T23:30:00+00:00")  # 1 March in Warsaw
    await add_case(
        pool,
        "PL-UA-2027-000001",
        status="closed",
        opened_at=late_february,
        replied_at=T,
        verification_status="not_confirmed",
    )
    await record(pool, "PL-UA-2027-000001", ("ApplicationRefused", {"reasons": {"sealed": "x"}}))
    await add_case(
        pool,
        "PL-UA-2027-000002",
        status="transferred",
        procedure="accelerated",
        opened_at=T - 60 * DAY,
        replied_at=T,
        transferred_at=T + 30 * DAY,
        verification_status="confirmed",
    )
    await record(
        pool,
        "PL-UA-2027-000002",
        ("ApplicationAccepted", {}),
        ("TransferScheduled", plan("Dorohusk–Yahodyn")),
        ("TransferScheduled", plan(" Medyka–Shehyni ")),  # rescheduled elsewhere
    )
    await add_case(pool, "UA-PL-2027-000001", status="draft")  # UA's: not PL's business
    found = await breakdowns(pool, StatsFilter({"PL"}, time_zone="Europe/Warsaw"))

    def figures_of(dimension: Dimension) -> dict[str | None, tuple[int, ...]]:
        return {
            b.value: (b.cases, b.replies, b.acceptances, b.refusals, b.transfers)
            for b in found[dimension]
        }

    assert figures_of("month") == {  # T - 60 days: 31 December 2026 in Warsaw
        "2026-12": (1, 1, 1, 0, 1),
        "2027-01": (0, 0, 0, 0, 0),
        "2027-02": (0, 0, 0, 0, 0),
        "2027-03": (1, 1, 0, 1, 0),
    }
    assert figures_of("procedure") == {"accelerated": (1, 1, 1, 0, 1), "standard": (1, 1, 0, 1, 0)}
    assert figures_of("crossing_point") == {
        "Medyka–Shehyni": (1, 1, 1, 0, 1),
        None: (1, 1, 0, 1, 0),
    }
    assert figures_of("verification") == {
        "confirmed": (1, 1, 1, 0, 1),
        "not_confirmed": (1, 1, 0, 1, 0),
    }
    utc = await breakdowns(pool, StatsFilter({"*"}, time_zone="UTC"))
    assert [(b.value, b.cases) for b in utc["month"]] == [
        ("2026-12", 1),
        ("2027-01", 0),
        ("2027-02", 2),  # the late February opening in UTC, and UA's draft (T - 10 days)
    ]
    rows = list(csv.DictReader(io.StringIO(breakdowns_csv(found))))
    assert list(rows[0]) == list(BREAKDOWN_CSV_HEADER)
    assert {"dimension": "crossing_point", "value": "", "refusals": "1"}.items() <= rows[7].items()
