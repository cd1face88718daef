"""The shipped catalogue, operator overrides, error reporting and the pair rules of the terms."""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from adapters.agreements.catalogue import Catalogue, CatalogueError, NotInCatalogue, load_catalogue
from domain.agreements import LIMIT_NAMES, NOTICE_REPLY, Protocol, Unit
from domain.terms import TermsError, merge_protocol, resolve_terms, suspension_in_effect

FIXTURES = Path(__file__).parents[1] / "fixtures" / "agreements"
SHIPPED_IDS = {"EU-UA", "EU-MD", "EU-BY", "EU-GE", "EU-RU"}
SHIPPED_PROTOCOLS = {
    ("EU-UA", "AT"),
    ("EU-UA", "PL"),
    ("EU-MD", "AT"),
    ("EU-MD", "RO"),
    ("EU-GE", "AT"),
    ("EU-RU", "AT"),
    ("EU-RU", "BE"),
}


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue()


def problems_of(exc: pytest.ExceptionInfo[CatalogueError]) -> set[tuple[str, str]]:
    return {(Path(p.file).name, p.key) for p in exc.value.problems}


# --- the shipped files -------------------------------------------------------------------------


def test_every_shipped_file_loads(shipped: Catalogue) -> None:
    assert set(shipped.agreements) == SHIPPED_IDS
    assert set(shipped.protocols) == SHIPPED_PROTOCOLS
    root = files("adapters.agreements")
    on_disk = {e.name for e in root.iterdir() if e.name.endswith(".toml")}
    on_disk |= {f"protocols/{e.name}" for e in (root / "protocols").iterdir()}
    assert set(shipped.origins.values()) == on_disk
    assert shipped.origins["EU-UA"] == "eu-ua.toml"
    assert shipped.origins[("EU-UA", "PL")] == "protocols/eu-ua.pl.toml"


@pytest.mark.parametrize("agreement_id", sorted(SHIPPED_IDS))
def test_every_shipped_agreement_has_every_limit_with_a_source(
    shipped: Catalogue, agreement_id: str
) -> None:
    agreement = shipped.agreement(agreement_id)
    assert set(agreement.limits) == set(LIMIT_NAMES) - {NOTICE_REPLY}  # a protocol's term
    for name, lim in agreement.limits.items():
        assert lim.source, f"{agreement_id} {name} has no source"
        if not lim.verified:
            assert "not confirmed" in lim.source.lower(), f"{agreement_id} {name}: {lim.source}"


def test_confirmed_values_are_verified(shipped: Catalogue) -> None:
    ua = shipped.agreement("EU-UA")
    assert (ua.limits["submission"].amount, ua.limits["submission"].unit) == (1, Unit.YEARS)
    assert ua.limits["submission"].verified
    assert ua.tcn_obligations_from == date(2010, 1, 1)
    assert ua.border_region.land_km == 30 and ua.border_region.verified
    md = shipped.agreement("EU-MD").limits["submission"]
    assert (md.amount, md.unit, md.verified) == (6, Unit.MONTHS, True)
    ge = shipped.agreement("EU-GE").limits["reply"]
    assert (ge.amount, ge.unit, ge.on_expiry.value, ge.verified) == (
        12,
        Unit.CALENDAR_DAYS,
        "deemed_accepted",
        True,
    )
    assert not ua.limits["reply"].verified


@pytest.mark.parametrize(("agreement_id", "state"), sorted(SHIPPED_PROTOCOLS))
def test_every_shipped_protocol_resolves(shipped: Catalogue, agreement_id: str, state: str) -> None:
    other = next(p for p in shipped.agreement(agreement_id).parties if p != "EU")
    terms = shipped.terms(agreement_id, state, other)
    assert terms.protocol_state == state
    assert shipped.terms(agreement_id, other, state).protocol_state == state


def test_eu_by_is_suspended_from_14_october_2021(shipped: Catalogue) -> None:
    terms = shipped.terms("EU-BY", "PL", "BY")
    assert suspension_in_effect(terms, date(2021, 10, 13)) is None
    suspension = suspension_in_effect(terms, date(2021, 10, 14))
    assert suspension is not None and suspension.by == "BY"
    assert "125-З" in suspension.reason
    assert suspension_in_effect(terms, date(2030, 1, 1)) == suspension
    assert suspension_in_effect(shipped.terms("EU-UA", "PL", "UA"), date(2021, 10, 14)) is None


def test_shipped_protocol_overlays(shipped: Catalogue) -> None:
    agreement_transfer = shipped.agreement("EU-UA").transfer
    pl = shipped.terms("EU-UA", "PL", "UA").transfer
    assert "Medyka–Shehyni" in pl.bcps and "Warsaw Chopin Airport" in pl.bcps
    assert pl.notice_reply_working_days is None and pl.modes == agreement_transfer.modes
    at = shipped.terms("EU-UA", "AT", "UA").transfer
    assert (at.notice_reply_working_days, at.silence_is_consent, at.bcps) == (3, True, ())
    assert shipped.terms("EU-RU", "AT", "RU").transfer.notice_working_days == 10
    assert "Vienna-Schwechat Airport" in shipped.terms("EU-RU", "AT", "RU").transfer.bcps
    assert shipped.terms("EU-GE", "AT", "GE").transfer.notice_working_days == 5
    at_md = shipped.terms("EU-MD", "AT", "MD").limits["transit_reply"]
    assert (at_md.amount, at_md.unit, at_md.verified) == (4, Unit.WORKING_DAYS, True)
    be_ru = shipped.terms("EU-RU", "BE", "RU").limits["transit_reply"]
    assert (be_ru.amount, be_ru.from_.value, be_ru.calendar) == (5, "receipt", "requested")


# --- protocol overlay ----------------------------------------------------------------------------


def test_a_protocol_changes_only_the_keys_it_gives() -> None:
    catalogue = load_catalogue(extra_files=[FIXTURES / "eu-ua.pl.reply10.toml"])
    base = catalogue.agreement("EU-UA").limits["reply"]
    reply = catalogue.terms("EU-UA", "PL", "UA").limits["reply"]
    assert reply.amount == 10
    assert reply.model_dump(exclude={"amount", "source", "verified"}) == base.model_dump(
        exclude={"amount", "source", "verified"}
    )
    assert reply.extension is not None and reply.extension.up_to == 60
    assert reply.source.startswith("test protocol PL (amount); otherwise: Art. 8(2)")
    assert reply.verified is False  # the agreement's other reply keys are unverified
    others = catalogue.terms("EU-UA", "PL", "UA").limits
    assert {n: lim for n, lim in others.items() if n != "reply"} == {
        n: lim for n, lim in catalogue.agreement("EU-UA").limits.items() if n != "reply"
    }
    # the fixture replaced the shipped PL protocol (same agreement and state)
    assert catalogue.terms("EU-UA", "PL", "UA").transfer.bcps == ()
    assert catalogue.origins[("EU-UA", "PL")].endswith("eu-ua.pl.reply10.toml")


def test_merge_replaces_an_extension_whole_and_keeps_provenance() -> None:
    agreement: dict[str, Any] = {
        "id": "EU-UA",
        "limits": {
            "reply": {
                "amount": 14,
                "extension": {"by": "obstacle"},
                "source": "A",
                "verified": True,
            }
        },
        "transfer": {"bcps": ["X"], "modes": ["air"], "source": "T", "verified": True},
    }
    protocol = {
        "agreement": "EU-UA",
        "state": "PL",
        "source": "P",
        "verified": True,
        "limits": {"reply": {"extension": {"up_to": 30, "unit": "calendar_days"}}},
        "transfer": {"bcps": ["Y"], "source": "P art. 3", "verified": False},
    }
    merged = merge_protocol(agreement, protocol)
    assert merged["limits"]["reply"] == {
        "amount": 14,
        "extension": {"up_to": 30, "unit": "calendar_days"},
        "source": "P (extension); otherwise: A",
        "verified": True,
    }
    assert merged["transfer"] == {
        "bcps": ["Y"],
        "modes": ["air"],
        "source": "P art. 3",
        "verified": False,
    }
    assert agreement["limits"]["reply"]["amount"] == 14  # inputs untouched
    assert "extension" in agreement["limits"]["reply"]


# --- operator overrides --------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def shipped_text(name: str) -> str:
    return (files("adapters.agreements") / name).read_text(encoding="utf-8")


def test_agreements_dir_overrides_shipped_files(tmp_path: Path) -> None:
    text = shipped_text("eu-ua.toml").replace("amount = 14\n", "amount = 20\n")
    write(tmp_path / "eu-ua.toml", text)
    write(tmp_path / "protocols" / "ua-pl.toml", 'agreement = "EU-UA"\nstate = "PL"\n')
    catalogue = load_catalogue(extra_dir=tmp_path)
    assert catalogue.agreement("EU-UA").limits["reply"].amount == 20
    assert catalogue.origins["EU-UA"] == str(tmp_path / "eu-ua.toml")
    assert catalogue.terms("EU-UA", "PL", "UA").transfer.bcps == ()
    assert catalogue.agreement("EU-MD") == load_catalogue().agreement("EU-MD")


def test_agreement_files_override_the_directory(tmp_path: Path) -> None:
    write(
        tmp_path / "dir" / "x.toml",
        shipped_text("eu-ua.toml").replace("amount = 14\n", "amount = 20\n"),
    )
    late = write(
        tmp_path / "late.toml", shipped_text("eu-ua.toml").replace("amount = 14\n", "amount = 21\n")
    )
    catalogue = load_catalogue(extra_dir=tmp_path / "dir", extra_files=[late])
    assert catalogue.agreement("EU-UA").limits["reply"].amount == 21


def test_duplicate_ids_in_one_directory(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", shipped_text("eu-md.toml"))
    write(tmp_path / "b.toml", shipped_text("eu-md.toml"))
    write(tmp_path / "p1.toml", 'agreement = "EU-MD"\nstate = "RO"\n')
    write(tmp_path / "p2.toml", 'agreement = "EU-MD"\nstate = "RO"\n')
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(extra_dir=tmp_path)
    messages = [str(p) for p in exc.value.problems]
    assert messages == [
        f"{tmp_path / 'b.toml'}: duplicate agreement EU-MD, also in {tmp_path / 'a.toml'}",
        f"{tmp_path / 'p2.toml'}: duplicate RO protocol of EU-MD, also in {tmp_path / 'p1.toml'}",
    ]


def test_missing_directory_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="agreements directory does not exist"):
        load_catalogue(extra_dir=tmp_path / "nope")


# --- problems, all of them, with key paths --------------------------------------------------------


def test_a_broken_file_reports_every_problem_with_its_key_path() -> None:
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(extra_files=[FIXTURES / "broken.toml"])
    assert problems_of(exc) == {
        ("broken.toml", "in_force"),
        ("broken.toml", "colour"),
        ("broken.toml", "limits.reply.amount"),
        ("broken.toml", "limits.reply.unit"),
        ("broken.toml", "limits.reply.calendar"),
        ("broken.toml", "limits.coffee_break"),
        ("broken.toml", "limits.transfer.amount"),
        ("broken.toml", "limits.transfer.extension"),
    }
    text = str(exc.value)
    assert (
        "broken.toml: limits.reply.unit: Input should be 'calendar_days', 'working_days', "
        "'months', 'years' or 'hours' (got 'weeks')"
    ) in text
    assert "broken.toml: colour: unknown key" in text
    assert "limits.coffee_break: unknown limit name 'coffee_break'" in text
    assert "Traceback" not in text


def test_a_toml_syntax_error_names_its_line() -> None:
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(extra_files=[FIXTURES / "syntax-error.toml", FIXTURES / "broken.toml"])
    syntax = [p for p in exc.value.problems if p.file.endswith("syntax-error.toml")]
    assert len(syntax) == 1
    assert syntax[0].message.startswith("TOML syntax error at line 4, column 23:")
    assert len(exc.value.problems) == 9  # the other file's problems are reported as well


def test_protocol_problems_are_reported_against_the_protocol_file() -> None:
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(
            extra_files=[
                FIXTURES / "ua-md.toml",
                FIXTURES / "ua-md.md.toml",
                FIXTURES / "unknown-agreement.pl.toml",
            ]
        )
    assert problems_of(exc) == {
        ("unknown-agreement.pl.toml", "agreement"),
        ("ua-md.md.toml", "limits.transit_reply.unit"),
        ("ua-md.md.toml", "limits.transit_reply.from"),
    }
    assert "unknown agreement 'EU-ZZ'" in str(exc.value)


def test_a_protocol_for_a_state_not_bound_is_refused(tmp_path: Path) -> None:
    dk = write(tmp_path / "dk.toml", 'agreement = "EU-UA"\nstate = "DK"\n')
    with pytest.raises(CatalogueError, match=r"dk.toml: state: DK is not a Member State bound"):
        load_catalogue(extra_files=[dk])


def test_a_missing_file_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(extra_files=[tmp_path / "absent.toml"])


# --- the pair rules ------------------------------------------------------------------------------


def test_pairs_in_either_direction(shipped: Catalogue) -> None:
    assert shipped.terms("EU-UA", "PL", "UA").requested == "UA"
    assert shipped.terms("EU-UA", "UA", "PL").requested == "PL"
    assert shipped.terms("EU-UA", "DE", "UA").protocol_state is None


@pytest.mark.parametrize(
    ("requesting", "requested", "message"),
    [
        ("DK", "UA", "DK is excluded from EU-UA"),
        ("UA", "IE", "IE is excluded from EU-UA"),
        ("PL", "PL", "PL cannot request readmission from itself"),
        ("PL", "DE", "PL and DE are on the same side of EU-UA"),
        ("GE", "UA", "GE is not a party to EU-UA"),
        ("UA", "CH", "CH is not a party to EU-UA"),
    ],
)
def test_pair_rules(shipped: Catalogue, requesting: str, requested: str, message: str) -> None:
    with pytest.raises(TermsError, match=message) as exc:
        resolve_terms(shipped.agreement("EU-UA"), None, requesting, requested)
    assert "rule:" in str(exc.value)


def test_a_protocol_applies_only_to_its_member_state_and_agreement(shipped: Catalogue) -> None:
    eu_ua = shipped.agreement("EU-UA")
    at_ua = shipped.protocol("EU-UA", "AT")
    assert at_ua is not None
    with pytest.raises(TermsError, match="the AT protocol does not apply between PL and UA"):
        resolve_terms(eu_ua, at_ua, "PL", "UA")
    at_md = shipped.protocol("EU-MD", "AT")
    assert at_md is not None
    with pytest.raises(TermsError, match="implements EU-MD, not EU-UA"):
        resolve_terms(eu_ua, at_md, "AT", "UA")
    assert resolve_terms(eu_ua, at_ua, "UA", "AT").protocol_state == "AT"


def test_explicit_protocol_must_exist(shipped: Catalogue) -> None:
    with pytest.raises(NotInCatalogue, match="no DE protocol for EU-UA; protocols: AT, PL"):
        shipped.terms("EU-UA", "DE", "UA", protocol_state="DE")
    with pytest.raises(NotInCatalogue, match="unknown agreement 'EU-XX'"):
        shipped.terms("EU-XX", "PL", "UA")


def test_a_bilateral_agreement(tmp_path: Path) -> None:
    catalogue = load_catalogue(extra_files=[FIXTURES / "ua-md.toml"])
    assert catalogue.terms("UA-MD", "UA", "MD").requested == "MD"
    assert catalogue.terms("UA-MD", "MD", "UA").requested == "UA"
    with pytest.raises(TermsError, match="PL is not a party to UA-MD"):
        catalogue.terms("UA-MD", "PL", "MD")


def test_a_protocol_that_does_not_merge_is_a_terms_error(shipped: Catalogue) -> None:
    protocol = Protocol.model_validate(
        {"agreement": "EU-UA", "state": "PL", "limits": {"reply": {"amount": 90}}}
    )
    with pytest.raises(TermsError, match=r"limits.reply: extension.up_to \(60\) must exceed"):
        resolve_terms(shipped.agreement("EU-UA"), protocol, "PL", "UA")
