"""Identity scoring tables: given a person, evidence and registry records, then an outcome."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.identity.unzr import make_unzr
from domain.identity.verification import (
    CONFIRMED_AT,
    INCONCLUSIVE_AT,
    DocumentStatus,
    RegistryDocument,
    RegistryRecord,
    assess_identity,
    document_numbers,
    normalise_document_number,
)
from domain.values import (
    EvidenceItem,
    Grade,
    GradedEvidence,
    Person,
    VerificationOutcome,
    VerificationStatus,
)

TODAY = date(2027, 3, 1)
BORN = date(1990, 5, 17)
UNZR = make_unzr(BORN, 3884)


def person(given: str = "Oleksandr", surname: str = "Shevchenko", **extra: object) -> Person:
    return Person.model_validate(
        {"surname": surname, "given_names": given, "birth_date": BORN} | extra
    )


def passport(
    number: str = "FA123456", grade: Grade = Grade.PROOF, **extra: object
) -> GradedEvidence:
    item = EvidenceItem.model_validate({"kind": "passport", "number": number} | extra)
    return GradedEvidence(item=item, grade=grade)


def record(
    person_id: str = "DEMO-UA-001",
    *,
    surname: str = "Шевченко",
    given: str = "Олександр",
    born: date = BORN,
    personal_number: str | None = UNZR,
    documents: tuple[RegistryDocument, ...] | None = None,
) -> RegistryRecord:
    if documents is None:
        documents = (RegistryDocument(kind="passport", number="FA123456"),)
    return RegistryRecord(
        person_id=person_id,
        surname=surname,
        given_names=given,
        birth_date=born,
        personal_number=personal_number,
        nationality="UKR",
        documents=documents,
    )


def assess(
    p: Person, evidence: list[GradedEvidence], candidates: list[RegistryRecord]
) -> VerificationOutcome:
    return assess_identity(p, evidence, candidates, TODAY, state="UA", registry="demo registry")


def _check_digit(data: str) -> str:
    values = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")} | {"<": 0}
    return str(sum(values[c] * (7, 3, 1)[i % 3] for i, c in enumerate(data)) % 10)


def td3(
    number: str = "FA123456<", birth: str = "900517", expiry: str = "280302"
) -> tuple[str, str]:
    """A TD3 passport MRZ with correct check digits."""
    line1 = "P<UKRSHEVCHENKO<<OLEKSANDR".ljust(44, "<")
    optional = "<" * 14
    body = (
        number + _check_digit(number) + "UKR" + birth + _check_digit(birth) + "M"
        + expiry + _check_digit(expiry) + optional + _check_digit(optional)
    )  # fmt: skip
    composite = body[0:10] + body[13:20] + body[21:43]
    return line1, body + _check_digit(composite)


@pytest.mark.parametrize("given", ["Oleksandr", "Olexandr", "Aleksandr", "Alexander", "Олександр"])
def test_same_person_across_transliterations_is_confirmed(given: str) -> None:
    outcome = assess(person(given), [passport()], [record()])
    assert outcome.status is VerificationStatus.CONFIRMED
    assert outcome.score >= CONFIRMED_AT
    assert not outcome.interview_needed
    assert outcome.registry == "demo registry"
    assert "document FA123456 is registered to this person" in outcome.reasons
    assert "birth date matches" in outcome.reasons
    assert any(
        r.startswith(f"name '{given} Shevchenko' ~ 'Олександр Шевченко'") for r in outcome.reasons
    )


def test_reason_for_the_name_names_the_transliteration() -> None:
    outcome = assess(person("Oleksandr"), [passport()], [record()])
    (reason,) = [r for r in outcome.reasons if r.startswith("name ")]
    assert "(1.00)" in reason and "Ukrainian 2010" in reason


def test_a_matching_unzr_adds_to_the_score() -> None:
    without = assess(person(), [passport()], [record()])
    with_unzr = assess(person(personal_number=UNZR), [passport()], [record()])
    assert with_unzr.score > without.score
    assert "UNZR matches the registry's" in with_unzr.reasons
    assert f"UNZR {UNZR} is valid and embeds the birth date" in with_unzr.reasons


def test_same_name_other_birth_date_is_not_confirmed() -> None:
    namesake = record(born=date(1985, 11, 3), documents=(), personal_number=None)
    outcome = assess(person(), [], [namesake])
    assert outcome.status is VerificationStatus.NOT_CONFIRMED
    assert outcome.score < INCONCLUSIVE_AT
    assert "birth date differs (registry: 1985-11-03)" in outcome.reasons
    assert outcome.interview_needed  # no proof at all


def test_name_and_birth_date_alone_are_inconclusive() -> None:
    outcome = assess(person(), [], [record(documents=(), personal_number=None)])
    assert outcome.status is VerificationStatus.INCONCLUSIVE
    assert outcome.interview_needed


def test_someone_elses_document_scores_low() -> None:
    stranger = person("Ivan", "Petrenko", birth_date=date(1980, 1, 1))
    outcome = assess(stranger, [passport()], [record()])
    assert outcome.status is VerificationStatus.NOT_CONFIRMED
    assert outcome.score < INCONCLUSIVE_AT
    assert (
        "the presented document is registered to someone with another name and birth date"
        in outcome.reasons
    )
    assert not outcome.interview_needed  # proof was given: the answer is a plain no


@pytest.mark.parametrize(
    "status", [DocumentStatus.LOST, DocumentStatus.STOLEN, DocumentStatus.REVOKED]
)
def test_lost_stolen_or_revoked_document_caps_at_inconclusive(status: DocumentStatus) -> None:
    documents = (RegistryDocument(kind="passport", number="FA123456", status=status),)
    outcome = assess(person(personal_number=UNZR), [passport()], [record(documents=documents)])
    assert outcome.score >= CONFIRMED_AT  # the data match; the document's status holds it back
    assert outcome.status is VerificationStatus.INCONCLUSIVE
    assert outcome.interview_needed
    assert any(f"registered as {status.value}" in r for r in outcome.reasons)
    assert any(
        f"at or above {CONFIRMED_AT} but capped at inconclusive" in r for r in outcome.reasons
    )


def test_valid_mrz_is_a_reason_and_its_number_is_looked_up() -> None:
    evidence = [passport(mrz=td3())]
    outcome = assess(person(), evidence, [record()])
    assert outcome.status is VerificationStatus.CONFIRMED
    assert "the MRZ of passport FA123456 passes every check (TD3)" in outcome.reasons
    mrz_only = GradedEvidence(item=EvidenceItem(kind="passport", mrz=td3()), grade=Grade.PROOF)
    assert document_numbers([mrz_only], TODAY) == ["FA123456"]


def test_bad_mrz_check_digit_is_a_strong_negative() -> None:
    line1, line2 = td3()
    broken = line2[:9] + str((int(line2[9]) + 1) % 10) + line2[10:]
    good = assess(person(), [passport(mrz=(line1, line2))], [record()])
    bad = assess(person(), [passport(mrz=(line1, broken))], [record()])
    assert bad.score < good.score
    assert bad.status is VerificationStatus.INCONCLUSIVE
    (reason,) = [r for r in bad.reasons if "fails its checks" in r]
    assert "document number check digit is" in reason and "possibly forged" in reason


def test_something_that_is_no_mrz_at_all_is_a_negative() -> None:
    outcome = assess(person(), [passport(mrz=("P<UKR",))], [record()])
    assert any("is not a machine-readable zone" in r for r in outcome.reasons)
    assert outcome.status is VerificationStatus.INCONCLUSIVE


def test_mrz_birth_date_other_than_the_persons_is_a_conflict() -> None:
    clean = assess(person(), [passport(mrz=td3())], [record()])
    other = assess(person(), [passport(mrz=td3(birth="900518"))], [record()])
    assert other.score < clean.score
    assert any("gives the birth date 1990-05-18, not 1990-05-17" in r for r in other.reasons)


def test_expired_passport_is_still_evidence_of_nationality() -> None:
    evidence = [passport(issued_on=date(2009, 6, 30), valid_until=date(2019, 6, 30))]
    outcome = assess(person(), evidence, [record()])
    assert outcome.status is VerificationStatus.CONFIRMED
    assert any(
        "expired on 2019-06-30" in r and "still evidence of nationality" in r
        for r in outcome.reasons
    )


def test_passport_expiring_today_has_not_expired() -> None:
    outcome = assess(person(), [passport(valid_until=TODAY)], [record()])
    assert not any("expired" in r for r in outcome.reasons)


def test_unzr_differing_from_the_registrys_lowers_the_score() -> None:
    other = make_unzr(BORN, 1234)
    matching = assess(person(personal_number=UNZR), [passport()], [record()])
    differing = assess(person(personal_number=other), [passport()], [record()])
    assert differing.score < matching.score
    assert differing.status is not VerificationStatus.CONFIRMED
    assert f"UNZR {other} differs from the registry's {UNZR}" in differing.reasons


def test_unzr_with_another_birth_date_is_a_reason() -> None:
    other = make_unzr(date(1991, 5, 17), 3884)
    outcome = assess(person(personal_number=other), [passport()], [record(personal_number=None)])
    assert f"UNZR {other} embeds the birth date 1991-05-17, not 1990-05-17" in outcome.reasons
    clean = assess(person(), [passport()], [record(personal_number=None)])
    assert outcome.score < clean.score


def test_unzr_with_a_wrong_check_digit_is_a_reason() -> None:
    wrong = UNZR[:-1] + str((int(UNZR[-1]) + 1) % 10)
    outcome = assess(person(personal_number=wrong), [passport()], [record(personal_number=None)])
    assert any(r.startswith(f"UNZR {wrong} is invalid: check digit") for r in outcome.reasons)


def test_unzr_is_only_checked_for_ukraine() -> None:
    moldovan = person("Ion", "Rusu", personal_number="2001234567890")
    outcome = assess_identity(moldovan, [], [], TODAY, state="MD")
    assert not any("UNZR" in r for r in outcome.reasons)


@pytest.mark.parametrize(
    ("registered", "reason"),
    [
        (date(1990, 5, 17), "birth date matches"),
        (date(1990, 5, 3), "birth date matches in year and month only (1990-05-03)"),
    ],
)
def test_birth_date_exact_or_partial(registered: date, reason: str) -> None:
    outcome = assess(person(), [passport()], [record(born=registered)])
    assert reason in outcome.reasons


def test_swapped_day_and_month_is_weaker_than_exact() -> None:
    born = date(1990, 3, 7)
    exact = assess(person(birth_date=born), [passport()], [record(born=born, personal_number=None)])
    swapped = assess(
        person(birth_date=born), [passport()], [record(born=date(1990, 7, 3), personal_number=None)]
    )
    year_month = assess(
        person(birth_date=born), [passport()], [record(born=date(1990, 3, 9), personal_number=None)]
    )
    assert "birth date matches only with day and month swapped (1990-07-03)" in swapped.reasons
    assert exact.score > swapped.score > year_month.score


def test_no_candidates_is_not_confirmed_with_an_interview() -> None:
    outcome = assess(person(), [passport()], [])
    assert outcome.status is VerificationStatus.NOT_CONFIRMED
    assert outcome.score == Decimal("0.000")
    assert outcome.interview_needed
    assert outcome.reasons[-1] == "no record in the UA registry"
    assert outcome.registry == "demo registry"


def test_the_best_candidate_decides_whatever_the_order() -> None:
    namesake = record("DEMO-UA-003", born=date(1985, 11, 3), documents=(), personal_number=None)
    lookalike = record("DEMO-UA-002", surname="Шевчук", documents=(), personal_number=None)
    candidates = [namesake, lookalike, record()]
    first = assess(person(), [passport()], candidates)
    again = assess(person(), [passport()], list(reversed(candidates)))
    assert first == again
    assert first.status is VerificationStatus.CONFIRMED
    assert "best registry record DEMO-UA-001 scores" in first.reasons[-1]
    assert "2 other record(s)" in first.reasons[-1]


def test_prima_facie_only_and_not_confirmed_needs_an_interview() -> None:
    stranger = person("Ivan", "Petrenko", birth_date=date(1980, 1, 1))
    copy = passport(grade=Grade.PRIMA_FACIE)
    outcome = assess(stranger, [copy], [record()])
    assert outcome.status is VerificationStatus.NOT_CONFIRMED
    assert outcome.interview_needed


def test_score_is_a_decimal_with_three_places_within_bounds() -> None:
    outcome = assess(person(personal_number=UNZR), [passport(mrz=td3())], [record()])
    assert outcome.score == Decimal("1.000")
    assert outcome.score.as_tuple().exponent == -3


def test_other_names_are_tried() -> None:
    married = person("Olena", "Bondar", other_names=("Olena Kovalenko",))
    registered = record(surname="Коваленко", given="Олена", documents=(), personal_number=None)
    outcome = assess(married, [], [registered])
    assert any(r.startswith("name 'Olena Kovalenko' ~ 'Олена Коваленко'") for r in outcome.reasons)


def test_document_numbers_are_normalised() -> None:
    assert normalise_document_number(" fa 123 456< ") == "FA123456"
    outcome = assess(person(), [passport("fa 123456")], [record()])
    assert "document FA123456 is registered to this person" in outcome.reasons
