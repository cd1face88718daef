"""Transit rules as data: the `[transit]` section of agreement and protocol files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.agreements.catalogue import CatalogueError, load_catalogue
from domain.agreements import Agreement

FIXTURES = Path(__file__).parents[1] / "fixtures" / "agreements"


def test_the_at_md_protocol_gives_the_transit_lead_times() -> None:
    terms = load_catalogue().terms("EU-MD", "AT", "MD")
    rules = terms.transit
    assert (rules.request_lead_working_days, rules.reply_lead_hours) == (4, 48)
    assert rules.silence_is_consent is False and rules.verified
    assert "4 working days ahead" in rules.source
    # an agreement without a [transit] section sets no lead and no deemed consent
    assert load_catalogue().terms("EU-MD", "RO", "MD").transit.request_lead_working_days is None


def test_a_protocol_overlays_the_transit_section_key_by_key() -> None:
    catalogue = load_catalogue(extra_files=[FIXTURES / "eu-md.transit-silence.toml"])
    at = catalogue.terms("EU-MD", "AT", "MD").transit
    # the AT protocol says silence is not consent; the weekend lead stays the agreement's
    assert (at.silence_is_consent, at.weekend_reply_lead_hours, at.reply_lead_hours) == (
        False,
        72,
        48,
    )
    de = catalogue.terms("EU-MD", "DE", "MD").transit
    assert de.silence_is_consent and not de.verified


def test_silence_is_said_in_one_place(tmp_path: Path) -> None:
    text = (FIXTURES / "eu-md.transit-silence.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('on_expiry = "escalate"', 'on_expiry = "deemed_accepted"'))
    with pytest.raises(CatalogueError, match=r"silence_is_consent"):
        load_catalogue(extra_files=[bad])


def test_no_readmission_limit_is_deemed_consented() -> None:
    data = {
        "id": "EU-XX",
        "title": "x",
        "parties": ["EU", "UA"],
        "in_force": "2008-01-01",
        "limits": {"reply": {"amount": 1, "unit": "calendar_days", "from": "receipt"}},
    }
    data["limits"]["reply"]["on_expiry"] = "deemed_consented"  # type: ignore[index]
    with pytest.raises(ValidationError, match="'deemed_consented' applies only to no limit"):
        Agreement.model_validate(data)


@pytest.mark.parametrize(
    ("limit", "consequence"),
    [
        ("reply", "deemed_confirmed"),
        ("transfer", "deemed_accepted"),
        ("error_return", "deemed_accepted"),
        ("transfer_notice_reply", "deemed_accepted"),
    ],
)
def test_a_consequence_its_procedure_cannot_apply_is_refused(limit: str, consequence: str) -> None:
    """Such a limit would wedge a case: its expiry refused, the limit never passed."""
    data = {
        "id": "EU-XX",
        "title": "x",
        "parties": ["EU", "UA"],
        "in_force": "2008-01-01",
        "limits": {limit: {"amount": 1, "unit": "calendar_days", "from": "receipt"}},
    }
    data["limits"][limit]["on_expiry"] = consequence  # type: ignore[index]
    with pytest.raises(ValidationError, match=f"limits.{limit}.on_expiry: '{consequence}'"):
        Agreement.model_validate(data)


def test_lead_times_are_positive() -> None:
    with pytest.raises(ValidationError):
        Agreement.model_validate(
            {
                "id": "EU-XX",
                "title": "x",
                "parties": ["EU", "UA"],
                "in_force": "2008-01-01",
                "limits": {},
                "transit": {"reply_lead_hours": 0},
            }
        )
