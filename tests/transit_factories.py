"""Builders for transit cases: AT asks MD to let a third-country national pass to GE, with
explicit terms (AT-MD-like lead times) so that a catalogue correction never changes a rule test."""

from __future__ import annotations

from datetime import date
from typing import Any

from factories import at, limit, person, terms

from domain.agreements import AgreementTerms, TransitRules
from domain.commands import OpenCase
from domain.transit_request import Assurance, TransitRequest

TRANSIT_CASE_ID = "AT-MD-2027-000001"
# Monday 1 Feb 2027 in Chișinău; the planned transit is Friday 5 Feb, the 4th working day after
OPENED = at("2027-02-01T09:00:00+02:00")
SUBMITTED = at("2027-02-01T10:00:00+02:00")
PLANNED = at("2027-02-05T10:00:00+02:00")
# min(4 working days after receipt: Fri 5 Feb 23:59:59, planned - 48 h: Wed 3 Feb 10:00)
REPLY_DUE = at("2027-02-03T10:00:00+02:00")


def transit_terms(**rules: Any) -> AgreementTerms:
    """EU-MD-like terms between AT (requesting) and MD (requested), with a transit reply limit
    of 4 working days and the AT-MD protocol's lead times (`rules` replace them)."""
    base = terms(agreement_id="EU-MD", requesting="AT", requested="MD")
    lead: dict[str, Any] = {
        "request_lead_working_days": 4,
        "reply_lead_hours": 48,
        "source": "test protocol",
        "verified": True,
        **rules,
    }
    limits = {**base.limits, "transit_reply": limit(4, "working_days", "receipt")}
    return base.model_copy(update={"limits": limits, "transit": TransitRules.model_validate(lead)})


def request(**changes: Any) -> TransitRequest:
    data: dict[str, Any] = {
        "destination": "GE",
        "assurance": Assurance(reference="GE-MIA-2027/118", given_on=date(2027, 1, 28)),
        "planned_at": PLANNED,
        "entry_point": "Chișinău International Airport",
        "exit_point": "Chișinău International Airport",
        "escorts": 2,
        "flight": {"number": "9U 171", "departs_from": "KIV", "arrives_at": "TBS"},
        **changes,
    }
    return TransitRequest.model_validate(data)


def open_transit(**overrides: Any) -> OpenCase:
    data: dict[str, Any] = {
        "at": OPENED,
        "case_id": TRANSIT_CASE_ID,
        "terms": transit_terms(),
        "category": "third_country_national",
        "person": person(),
        "kind": "transit",
        "transit": request(),
    }
    data.update(overrides)
    return OpenCase.model_validate(data)
