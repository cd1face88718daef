"""`applies_to` in agreement and protocol files: accepted, overridden by a protocol, reported with
its key path when it names an unknown category; the shipped submission windows bind third-country
nationals and stateless persons only, each saying so in its source."""

from __future__ import annotations

from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import pytest
from factories import T0

from adapters.agreements.catalogue import Catalogue, CatalogueError, load_catalogue
from domain.agreements import AgreementTerms, Category
from domain.commands import OpenCase, SubmitApplication
from domain.decider import decide, fold
from domain.errors import SubmissionWindowClosed
from domain.state import CaseState
from domain.values import EvidenceItem, Person

FOREIGN = (Category.THIRD_COUNTRY_NATIONAL, Category.STATELESS)
WINDOW = '[limits.submission]\namount = 1\nunit = "years"\n'


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue()


def shipped_text(name: str) -> str:
    return (files("adapters.agreements") / name).read_text(encoding="utf-8")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def with_applies_to(text: str, value: str) -> str:
    """The EU-UA file with its submission window's `applies_to` set to `value`."""
    old = 'applies_to = ["third_country_national", "stateless"]\n'
    assert text.count(old) == 1
    return text.replace(old, f"applies_to = {value}\n")


# --- the shipped files -------------------------------------------------------------------------


def test_every_shipped_submission_window_binds_tcn_and_stateless_with_a_source(
    shipped: Catalogue,
) -> None:
    for agreement in shipped.list_agreements():
        pairs = [(agreement.id, agreement.limits)]
        for protocol in shipped.protocols_of(agreement.id):
            other = next(p for p in agreement.parties if p != "EU")
            terms = shipped.terms(agreement.id, protocol.state, other)
            pairs.append((f"{agreement.id}/{protocol.state}", terms.limits))
        for where, limits in pairs:
            window = limits["submission"]
            assert window.applies_to == FOREIGN, where
            assert "stateless person" in window.source, where
            assert not window.binds(Category.OWN_NATIONAL), where
            accelerated = limits["accelerated_submission"]
            assert accelerated.applies_to is None, where
            assert "binds every category" in accelerated.source, where
            others = [n for n, lim in limits.items() if lim.applies_to is not None]
            assert others == ["submission"], where


def opened_under(terms: AgreementTerms, category: Category, knowledge_age: int) -> CaseState:
    command = OpenCase(
        at=T0,
        case_id=f"{terms.requesting}-{terms.requested}-2027-000001",
        terms=terms,
        category=category,
        person=Person(surname="S", given_names="O", birth_date=T0.date()),
        evidence=(EvidenceItem(kind="passport"),),
        knowledge_at=T0 - timedelta(days=knowledge_age),
    )
    return fold(decide(command, fold([])))


@pytest.mark.parametrize(
    ("agreement_id", "requested", "late", "early"),
    [("EU-UA", "UA", 730, 300), ("EU-MD", "MD", 213, 150)],  # 1 year; 6 months
)
def test_shipped_windows_refuse_late_foreigners_only(
    shipped: Catalogue, agreement_id: str, requested: str, late: int, early: int
) -> None:
    """The acceptance test on the shipped terms: an own national with old knowledge is
    submitted, a TCN or stateless person after the window refused with the rule quoted, and
    both within the window submitted."""
    terms = shipped.terms(agreement_id, "PL", requested)
    submit = SubmitApplication(at=T0 + timedelta(hours=1))
    for category in Category:
        for age in (late, early):
            state = opened_under(terms, category, age)
            if category is Category.OWN_NATIONAL or age == early:
                assert decide(submit, state)[0].type == "ApplicationSubmitted", (category, age)
                continue
            with pytest.raises(SubmissionWindowClosed) as refused:
                decide(submit, state)
            assert terms.limits["submission"].source in refused.value.message


# --- loading files -----------------------------------------------------------------------------


def test_applies_to_is_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "eu-ua.toml", with_applies_to(shipped_text("eu-ua.toml"), '["stateless"]')
    )
    window = load_catalogue(extra_files=[path]).agreement("EU-UA").limits["submission"]
    assert window.applies_to == (Category.STATELESS,)


def test_an_unknown_category_is_reported_with_its_key_path(tmp_path: Path) -> None:
    text = with_applies_to(shipped_text("eu-ua.toml"), '["stateless", "refugee"]')
    path = write(tmp_path / "eu-xx.toml", text)
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(extra_files=[path])
    assert [str(p) for p in exc.value.problems] == [
        f"{path}: limits.submission.applies_to.1: Input should be 'own_national', "
        "'third_country_national' or 'stateless' (got 'refugee')"
    ]


def test_an_empty_applies_to_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "eu-xx.toml", with_applies_to(shipped_text("eu-ua.toml"), "[]"))
    with pytest.raises(
        CatalogueError,
        match=r"eu-xx.toml: limits.submission.applies_to: name at least one category",
    ):
        load_catalogue(extra_files=[path])


def test_a_protocol_overrides_applies_to(tmp_path: Path) -> None:
    protocol = write(
        tmp_path / "eu-ua.pl.toml",
        'agreement = "EU-UA"\nstate = "PL"\nsource = "test protocol PL"\n\n'
        '[limits.submission]\napplies_to = ["third_country_national"]\n',
    )
    catalogue = load_catalogue(extra_files=[protocol])
    window = catalogue.terms("EU-UA", "PL", "UA").limits["submission"]
    assert window.applies_to == (Category.THIRD_COUNTRY_NATIONAL,)
    assert window.source.startswith("test protocol PL (applies_to); otherwise: Art. 8")
    assert window.amount == 1  # the other keys stay the agreement's
    other = catalogue.terms("EU-UA", "AT", "UA").limits["submission"]
    assert other.applies_to == FOREIGN


def test_a_protocol_naming_an_unknown_category_is_reported(tmp_path: Path) -> None:
    protocol = write(
        tmp_path / "eu-ua.pl.toml",
        'agreement = "EU-UA"\nstate = "PL"\n\n[limits.submission]\napplies_to = ["tourist"]\n',
    )
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(extra_files=[protocol])
    assert [(Path(p.file).name, p.key) for p in exc.value.problems] == [
        ("eu-ua.pl.toml", "limits.submission.applies_to.0")
    ]
    assert "(got 'tourist')" in str(exc.value)
