"""Categories of person: the submission window binds third-country nationals and stateless
persons only (`applies_to`), the TCN transition covers stateless persons, and stateless persons
are proved with the third-country nationals' annexes unless the terms give their own."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from factories import T0, at, limit, open_case, run, terms

from domain.agreements import AgreementTerms, Category
from domain.commands import (
    AcceptApplication,
    ExpireLimit,
    ExtendReplyLimit,
    ExtendTransferLimit,
    SubmitApplication,
)
from domain.decider import decide, validate
from domain.errors import (
    DomainError,
    ExtensionNotAllowed,
    SubmissionWindowClosed,
    TcnObligationsNotStarted,
    WrongStatus,
)
from domain.state import CaseState
from domain.values import EvidenceItem, Grade, Status

FOREIGN = ("third_country_national", "stateless")
WINDOW_SOURCE = "Art. 8: at most 1 year after gaining knowledge of a TCN's irregular stay"
SUBMIT_AT = at("2027-01-05T12:00:00+02:00")
OLD_KNOWLEDGE = T0 - timedelta(days=730)  # two years before opening
RECENT_KNOWLEDGE = T0 - timedelta(days=30)


def window_terms(**overrides: Any) -> AgreementTerms:
    """EU-UA-like terms whose submission window binds TCN and stateless persons, as shipped."""
    limits = dict(terms().limits)
    limits["submission"] = limit(
        1,
        "years",
        "knowledge",
        calendar="requesting",
        on_expiry="lapsed",
        applies_to=list(FOREIGN),
        source=WINDOW_SOURCE,
        verified=True,
    )
    return terms(limits=limits, **overrides)


def opened(category: str, knowledge_at: datetime, **overrides: Any) -> CaseState:
    passport = EvidenceItem(kind="passport", number="FA123456")
    command = open_case(
        terms=overrides.pop("terms", window_terms()),
        category=category,
        knowledge_at=knowledge_at,
        evidence=(passport,),
        **overrides,
    )
    return run([command])[0]


def refuses(state: CaseState, error: type[DomainError]) -> DomainError:
    with pytest.raises(error) as info:
        decide(SubmitApplication(at=SUBMIT_AT), state)
    with pytest.raises(error):
        validate(SubmitApplication(at=SUBMIT_AT), state)
    return info.value


def submitted_types(state: CaseState) -> list[str]:
    return [e.type for e in decide(SubmitApplication(at=SUBMIT_AT), state)]


# --- the submission window ----------------------------------------------------------------------


def test_an_own_national_with_old_knowledge_is_submitted() -> None:
    state = opened("own_national", OLD_KNOWLEDGE)
    assert "submission" not in state.deadlines and state.open_limits == ()
    assert submitted_types(state) == ["ApplicationSubmitted", "ApplicationDelivered", "DeadlineSet"]


def test_an_own_national_never_lapses_for_lateness() -> None:
    state = opened("own_national", OLD_KNOWLEDGE)
    late = ExpireLimit(at=T0 + timedelta(days=800), limit="submission")
    with pytest.raises(WrongStatus, match="no 'submission' limit is running"):
        decide(late, state)


@pytest.mark.parametrize("category", FOREIGN)
def test_after_the_window_a_foreigner_is_refused_with_the_rule_quoted(category: str) -> None:
    state = opened(category, OLD_KNOWLEDGE)
    assert state.deadlines["submission"].due == at("2026-01-04T23:59:59+01:00")
    error = refuses(state, SubmissionWindowClosed)
    assert error.message == (
        "the submission limit ended 2026-01-04T23:59:59+01:00 (1 year after the knowledge day, "
        f"ending 23:59:59 Europe/Warsaw; {WINDOW_SOURCE})"
    )


@pytest.mark.parametrize("category", FOREIGN)
def test_after_the_window_a_foreigners_case_lapses(category: str) -> None:
    state = opened(category, OLD_KNOWLEDGE)
    state, events = run([ExpireLimit(at=T0, limit="submission")], state)
    assert [e.type for e in events] == ["DeadlineEscalated", "LimitLapsed"]
    assert state.status is Status.LAPSED


@pytest.mark.parametrize("category", [*FOREIGN, "own_national"])
def test_within_the_window_every_category_is_submitted(category: str) -> None:
    state = opened(category, RECENT_KNOWLEDGE)
    assert ("submission" in state.open_limits) is (category != "own_national")
    assert submitted_types(state)[0] == "ApplicationSubmitted"


def test_a_limit_without_applies_to_binds_every_category() -> None:
    state = opened("own_national", OLD_KNOWLEDGE, terms=terms())  # recorded before applies_to
    assert "submission" in state.open_limits
    refuses(state, SubmissionWindowClosed)


def test_the_accelerated_limit_without_applies_to_binds_own_nationals() -> None:
    state = opened(
        "own_national",
        OLD_KNOWLEDGE,
        procedure="accelerated",
        apprehended_at=T0 - timedelta(days=10),
        apprehension_place={"kind": "international_airport"},
    )
    assert state.open_limits == ("accelerated_submission",)
    refuses(state, SubmissionWindowClosed)


# --- the transition for third-country nationals -------------------------------------------------


@pytest.mark.parametrize("category", FOREIGN)
def test_before_tcn_obligations_start_a_foreigner_is_refused(category: str) -> None:
    late_start = window_terms(tcn_obligations_from=date(2028, 1, 1))
    error = refuses(opened(category, RECENT_KNOWLEDGE, terms=late_start), TcnObligationsNotStarted)
    assert "third-country nationals and stateless persons only from 2028-01-01" in error.message


def test_before_tcn_obligations_start_an_own_national_is_submitted() -> None:
    late_start = window_terms(tcn_obligations_from=date(2028, 1, 1))
    assert submitted_types(opened("own_national", RECENT_KNOWLEDGE, terms=late_start))


# --- evidence -----------------------------------------------------------------------------------


def graded(category: str, evidence: dict[str, Any] | None = None) -> list[Grade]:
    items = (EvidenceItem(kind="visa"), EvidenceItem(kind="passport"))
    shaped = terms() if evidence is None else terms(evidence=evidence)
    state = run([open_case(terms=shaped, category=category, evidence=items)])[0]
    return [g.grade for g in state.evidence]


def test_stateless_evidence_is_graded_with_the_tcn_annex() -> None:
    assert (
        graded("stateless")
        == graded("third_country_national")
        == [
            Grade.PROOF,
            Grade.PRIMA_FACIE,
        ]
    )
    assert graded("own_national") == [Grade.PRIMA_FACIE, Grade.PROOF]


def test_terms_may_give_stateless_persons_their_own_annex() -> None:
    own = {"proof_of_nationality": ["passport"], "proof_tcn": ["visa"], "proof_stateless": []}
    assert graded("stateless", own) == [Grade.PRIMA_FACIE, Grade.PRIMA_FACIE]
    assert graded("third_country_national", own) == [Grade.PROOF, Grade.PRIMA_FACIE]


def test_every_category_has_its_proof_annex() -> None:
    evidence = terms().evidence
    assert {c: evidence.proof_for(c) for c in Category} == {
        Category.OWN_NATIONAL: ("passport", "identity_card"),
        Category.THIRD_COUNTRY_NATIONAL: ("visa", "residence_permit"),
        Category.STATELESS: ("visa", "residence_permit"),
    }


# --- other limits that do not bind -------------------------------------------------------------


def narrowed(name: str) -> AgreementTerms:
    base = terms()
    data = base.limits[name].model_dump(by_alias=True) | {"applies_to": list(FOREIGN)}
    return terms(limits={**base.limits, name: data})


def test_a_reply_limit_that_does_not_bind_lets_the_reply_come_without_limit() -> None:
    state = opened("own_national", RECENT_KNOWLEDGE, terms=narrowed("reply"))
    state = run([SubmitApplication(at=SUBMIT_AT)], state)[0]
    assert state.status is Status.RECEIVED and state.open_limits == ()
    later = SUBMIT_AT + timedelta(days=200)
    with pytest.raises(ExtensionNotAllowed, match="no reply limit runs for own national"):
        decide(ExtendReplyLimit(at=later, reasons=("registry down",)), state)
    state = run([AcceptApplication(at=later)], state)[0]
    assert state.status is Status.ACCEPTED and "transfer" in state.open_limits


def test_a_transfer_limit_that_does_not_bind_cannot_be_extended() -> None:
    state = opened("own_national", RECENT_KNOWLEDGE, terms=narrowed("transfer"))
    state = run([SubmitApplication(at=SUBMIT_AT), AcceptApplication(at=SUBMIT_AT)], state)[0]
    assert state.status is Status.ACCEPTED and "transfer" not in state.open_limits
    extend = ExtendTransferLimit(at=SUBMIT_AT, days=10, reasons=("strike",))
    with pytest.raises(ExtensionNotAllowed, match="no transfer limit runs for own national"):
        decide(extend, state)
