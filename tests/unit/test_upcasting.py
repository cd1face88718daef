"""The upcasting hook lifts an event stored under an older schema to the current one."""

from __future__ import annotations

from typing import Any

import pytest

from domain import events as ev
from domain.events import CaseWithdrawn, parse_event, register_upcaster


def test_older_schema_is_upcast_before_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ev.CURRENT_SCHEMA, "CaseWithdrawn", 2)
    monkeypatch.setattr(ev, "UPCASTERS", {})

    @register_upcaster("CaseWithdrawn", 1)
    def reason_to_reasons(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        data["reasons"] = [data.pop("reason")]
        return data

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


def test_missing_upcaster_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ev.CURRENT_SCHEMA, "CaseWithdrawn", 3)
    monkeypatch.setattr(ev, "UPCASTERS", {})
    with pytest.raises(ValueError, match="no upcaster"):
        parse_event({"type": "CaseWithdrawn", "schema_version": 1, "at": "2027-01-01T00:00:00Z"})
