"""The upcasting hook lifts an event stored under an older schema to the current one, and a
stored row decodes through it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.db.eventstore import Recorded
from domain import events as ev
from domain.events import CaseWithdrawn, parse_event, register_upcaster


@pytest.fixture
def reasons_in_version_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """`CaseWithdrawn` at schema 2 (a list of reasons), with the upcaster from 1 (one reason)."""
    monkeypatch.setitem(ev.CURRENT_SCHEMA, "CaseWithdrawn", 2)
    monkeypatch.setattr(ev, "UPCASTERS", {})

    @register_upcaster("CaseWithdrawn", 1)
    def reason_to_reasons(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        data["reasons"] = [data.pop("reason")]
        return data


@pytest.mark.usefixtures("reasons_in_version_2")
def test_older_schema_is_upcast_before_validation() -> None:
    old = {
        "type": "CaseWithdrawn",
        "schema_version": 1,
        "at": "2027-01-01T00:00:00Z",
        "reason": "x",
    }
    event = parse_event(old)
    assert isinstance(event, CaseWithdrawn)
    assert event.reasons == ("x",)
    assert event.schema_version == 2


@pytest.mark.usefixtures("reasons_in_version_2")
def test_a_stored_row_of_an_older_schema_decodes_upcast() -> None:
    row = Recorded(
        global_position=1,
        stream_id="PL-UA-2027-000001",
        version=1,
        event_id=uuid.uuid4(),
        type="CaseWithdrawn",
        schema_version=1,
        data={"at": "2027-01-01T00:00:00Z", "reason": "x"},
        metadata={},
        recorded_at=datetime(2027, 1, 1, tzinfo=UTC),
        prev_hash=bytes(32),
        hash=bytes(32),
    )
    event = row.event()
    assert isinstance(event, CaseWithdrawn)
    assert event.reasons == ("x",) and event.schema_version == 2


def test_missing_upcaster_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ev.CURRENT_SCHEMA, "CaseWithdrawn", 3)
    monkeypatch.setattr(ev, "UPCASTERS", {})
    with pytest.raises(ValueError, match="no upcaster"):
        parse_event({"type": "CaseWithdrawn", "schema_version": 1, "at": "2027-01-01T00:00:00Z"})
