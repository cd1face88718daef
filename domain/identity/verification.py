"""Identity verification on the requested state's side: the evidence, then each registry record.

`assess_identity` first checks the evidence on its own (MRZ check digits, validity dates, Ukraine's
UNZR), then scores every record the registry returned and keeps the best. Document numbers and
the birth date weigh more than the name, because names cross scripts and transliterations and
namesakes are common (Shevchenko and Shevchuk already count as alike). The outcome always carries
the reasons, so an officer sees why a person was or was not confirmed.

Points add up (capped at 1): document 0.40, personal number 0.40, birth date 0.30 (partial less),
name 0.25 × similarity; conflicts subtract. A failing MRZ or a lost, stolen or revoked document
caps the status at inconclusive. An interview is needed when inconclusive, when no record was
found, or when not confirmed without any evidence graded proof.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from domain.agreements import Frozen
from domain.identity.mrz import NotAnMrz, parse_mrz
from domain.identity.names import match_names
from domain.identity.unzr import validate_unzr
from domain.values import Grade, GradedEvidence, Person, VerificationOutcome, VerificationStatus

CONFIRMED_AT = Decimal("0.800")
"""A best candidate scoring at least this is the person (unless a cap applies)."""
INCONCLUSIVE_AT = Decimal("0.500")
"""At least this, but below `CONFIRMED_AT` (or capped): an officer must interview the person."""

DOCUMENT_WEIGHT = Decimal("0.40")  # a presented document number is registered to the record
PERSONAL_NUMBER_WEIGHT = Decimal("0.40")  # the personal number (UNZR, IDNP, PESEL…) matches
BIRTH_DATE_WEIGHT = Decimal("0.30")  # exact birth date
BIRTH_SWAPPED_WEIGHT = Decimal("0.15")  # day and month swapped: a common transcription error
BIRTH_YEAR_MONTH_WEIGHT = Decimal("0.10")  # same year and month, other day
NAME_WEIGHT = Decimal("0.25")  # times the name similarity (0–1)
NAME_FLOOR = 0.5  # a name similarity below this adds nothing

PERSONAL_NUMBER_CONFLICT = Decimal("0.30")  # both sides have a personal number and they differ
MRZ_PENALTY = Decimal("0.20")  # an MRZ check digit or format check fails, or it is no MRZ
UNZR_PENALTY = Decimal("0.20")  # the claimed UNZR is invalid or embeds another birth date
EVIDENCE_CONFLICT = Decimal("0.10")  # the evidence contradicts itself (MRZ vs printed data)

UNZR_STATE = "UA"
_THOUSANDTH = Decimal("0.001")
_ZERO = Decimal(0)
_ONE = Decimal(1)

Name = Annotated[str, Field(min_length=1, max_length=200)]


class DocumentStatus(StrEnum):
    VALID = "valid"
    LOST = "lost"
    STOLEN = "stolen"
    REVOKED = "revoked"


class RegistryDocument(Frozen):
    """A document the registry knows, its number normalised (upper case, no spaces)."""

    kind: Name
    number: Name
    issued_on: date | None = None
    valid_until: date | None = None
    status: DocumentStatus = DocumentStatus.VALID


class RegistryRecord(Frozen):
    """One person as the requested state's registry holds them."""

    person_id: Name
    surname: Name
    given_names: Name
    birth_date: date
    personal_number: Name | None = None
    nationality: Name | None = None
    documents: tuple[RegistryDocument, ...] = ()


def normalise_document_number(number: str) -> str:
    """Upper case without spaces or MRZ fillers: `fa 123 456` and `FA123456<` are one number."""
    return "".join(c for c in number.upper() if not c.isspace() and c != "<")


def normalise_personal_number(state: str, number: str) -> str:
    """A personal number as stored: a well-formed UNZR canonical (`YYYYMMDD-NNNNC`) in UA."""
    text = "".join(number.split()).upper()
    if state == UNZR_STATE:
        unzr = validate_unzr(text)
        if unzr.well_formed:
            return unzr.number
    return text


def document_numbers(evidence: Sequence[GradedEvidence], today: date) -> list[str]:
    """Every document number the evidence shows, printed or in an MRZ, normalised, in order."""
    found: dict[str, None] = {}
    for graded in evidence:
        item = graded.item
        if item.number:
            found.setdefault(normalise_document_number(item.number), None)
        if item.mrz:
            try:
                number = parse_mrz(item.mrz, today=today).fields.document_number
            except NotAnMrz:
                continue
            if number := normalise_document_number(number):
                found.setdefault(number, None)
    return list(found)


@dataclass
class _Findings:
    """Points, penalties and reasons gathered for the evidence or for one candidate."""

    points: Decimal = _ZERO
    penalty: Decimal = _ZERO
    reasons: list[str] = field(default_factory=list)
    capped: bool = False  # the status cannot be better than inconclusive


def assess_identity(
    person: Person,
    evidence: Sequence[GradedEvidence],
    candidates: Sequence[RegistryRecord],
    today: date,
    *,
    state: str | None = None,
    registry: str | None = None,
) -> VerificationOutcome:
    """Check the evidence, score each registry candidate and judge by the best one.

    `state` is the requested state (its registry was searched; the UNZR is checked when it is
    UA); `registry` names that registry in the outcome. `today` is the requested state's date.
    """
    checked = _check_evidence(person, evidence, today, state)
    has_proof = any(g.grade is Grade.PROOF for g in evidence)
    if not candidates:
        where = f"the {state} registry" if state else "the registry"
        return VerificationOutcome(
            status=VerificationStatus.NOT_CONFIRMED,
            score=_ZERO.quantize(_THOUSANDTH),
            reasons=(*checked.reasons, f"no record in {where}"),
            interview_needed=True,
            registry=registry,
        )
    numbers = set(document_numbers(evidence, today))
    scored = []
    for candidate in candidates:
        found = _assess_candidate(person, numbers, candidate, today, state)
        scored.append((_score(found, checked), candidate.person_id, found))
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    score, best_id, found = scored[0]
    capped = checked.capped or found.capped
    if score >= CONFIRMED_AT and not capped:
        status, verdict = VerificationStatus.CONFIRMED, f"at or above {CONFIRMED_AT}"
    elif score >= INCONCLUSIVE_AT:
        status = VerificationStatus.INCONCLUSIVE
        verdict = (
            f"at or above {CONFIRMED_AT} but capped at inconclusive"
            if score >= CONFIRMED_AT
            else f"between {INCONCLUSIVE_AT} and {CONFIRMED_AT}"
        )
    else:
        status, verdict = VerificationStatus.NOT_CONFIRMED, f"below {INCONCLUSIVE_AT}"
    summary = f"best registry record {best_id} scores {score}, {verdict}: {status.value}"
    if len(scored) > 1:
        summary += f" ({len(scored) - 1} other record(s), the next scoring {scored[1][0]})"
    interview = status is VerificationStatus.INCONCLUSIVE or (
        status is VerificationStatus.NOT_CONFIRMED and not has_proof
    )
    return VerificationOutcome(
        status=status,
        score=score,
        reasons=(*checked.reasons, *found.reasons, summary),
        interview_needed=interview,
        registry=registry,
    )


def _score(found: _Findings, checked: _Findings) -> Decimal:
    """A candidate's points less its and the evidence's penalties, within 0–1, to 0.001."""
    raw = found.points - found.penalty - checked.penalty
    return min(_ONE, max(_ZERO, raw)).quantize(_THOUSANDTH, ROUND_HALF_UP)


def _check_evidence(
    person: Person, evidence: Sequence[GradedEvidence], today: date, state: str | None
) -> _Findings:
    """What the evidence says about itself, before any registry record is looked at."""
    found = _Findings()
    for graded in evidence:
        item = graded.item
        kind = item.kind.replace("_", " ")
        label = f"{kind} {normalise_document_number(item.number)}" if item.number else kind
        if item.mrz:
            _check_mrz(found, person, label, item.mrz, item.number, today)
        if item.valid_until is not None and item.valid_until < today:
            found.reasons.append(
                f"{label} expired on {item.valid_until.isoformat()}: still evidence of "
                "nationality, though no longer a valid travel document"
            )
        if item.issued_on is not None and item.issued_on > today:
            found.penalty += EVIDENCE_CONFLICT
            found.reasons.append(f"{label} is dated as issued in the future ({item.issued_on})")
        if (
            item.issued_on is not None
            and item.valid_until is not None
            and item.valid_until < item.issued_on
        ):
            found.penalty += EVIDENCE_CONFLICT
            found.reasons.append(f"{label} expires before it was issued")
    if state == UNZR_STATE and person.personal_number:
        _check_unzr(found, person)
    return found


def _check_mrz(
    found: _Findings,
    person: Person,
    label: str,
    lines: Sequence[str],
    number: str | None,
    today: date,
) -> None:
    try:
        mrz = parse_mrz(lines, today=today)
    except NotAnMrz as error:
        found.penalty += MRZ_PENALTY
        found.capped = True
        found.reasons.append(f"the MRZ of {label} is not a machine-readable zone: {error}")
        return
    if not mrz.valid:
        found.penalty += MRZ_PENALTY
        found.capped = True
        failures = "; ".join(
            f"{c.name.replace('_', ' ')} check digit is {c.actual}, expected {c.expected}"
            if c.kind == "check_digit"
            else f"{c.name.replace('_', ' ')} {c.actual!r} is not {c.expected}"
            for c in mrz.failed
        )
        found.reasons.append(f"the MRZ of {label} fails its checks ({failures}): possibly forged")
        return
    found.reasons.append(f"the MRZ of {label} passes every check ({mrz.format})")
    fields = mrz.fields
    if number and normalise_document_number(number) != fields.document_number:
        found.penalty += EVIDENCE_CONFLICT
        found.reasons.append(
            f"the MRZ of {label} gives another document number, {fields.document_number}"
        )
    if fields.birth_date is not None and fields.birth_date != person.birth_date:
        found.penalty += EVIDENCE_CONFLICT
        found.reasons.append(
            f"the MRZ of {label} gives the birth date {fields.birth_date.isoformat()}, "
            f"not {person.birth_date.isoformat()}"
        )
    if number is None and fields.expiry_date is not None and fields.expiry_date < today:
        found.reasons.append(
            f"{label} expired on {fields.expiry_date.isoformat()} (MRZ): still evidence of "
            "nationality, though no longer a valid travel document"
        )


def _check_unzr(found: _Findings, person: Person) -> None:
    assert person.personal_number is not None
    unzr = validate_unzr(person.personal_number)
    if not unzr.valid:
        found.penalty += UNZR_PENALTY
        found.reasons.append(f"UNZR {unzr.number} is invalid: {unzr.reason}")
    elif unzr.birth_date != person.birth_date:
        found.penalty += UNZR_PENALTY
        embedded = unzr.birth_date.isoformat() if unzr.birth_date else "?"
        found.reasons.append(
            f"UNZR {unzr.number} embeds the birth date {embedded}, "
            f"not {person.birth_date.isoformat()}"
        )
    else:
        found.reasons.append(f"UNZR {unzr.number} is valid and embeds the birth date")


def _assess_candidate(
    person: Person,
    numbers: set[str],
    record: RegistryRecord,
    today: date,
    state: str | None,
) -> _Findings:
    found = _Findings()
    document = _compare_documents(found, numbers, record, today)
    birth = _compare_birth_dates(found, person.birth_date, record.birth_date)
    _compare_personal_numbers(found, person.personal_number, record.personal_number, state)
    name_matches = _compare_names(found, person, record)
    if document and not birth and not name_matches:
        found.reasons.append(
            "the presented document is registered to someone with another name and birth date"
        )
    return found


def _compare_documents(
    found: _Findings, numbers: set[str], record: RegistryRecord, today: date
) -> bool:
    matched = [d for d in record.documents if normalise_document_number(d.number) in numbers]
    if not matched:
        if numbers:
            found.reasons.append("no presented document is registered to this person")
        return False
    found.points += DOCUMENT_WEIGHT
    for document in matched:
        number = normalise_document_number(document.number)
        found.reasons.append(f"document {number} is registered to this person")
        if document.status is not DocumentStatus.VALID:
            found.capped = True
            found.reasons.append(
                f"document {number} is registered as {document.status.value}: "
                "it cannot confirm identity on its own"
            )
        elif document.valid_until is not None and document.valid_until < today:
            found.reasons.append(
                f"document {number} expired on {document.valid_until.isoformat()} per the "
                "registry: still evidence of nationality"
            )
    return True


def _compare_birth_dates(found: _Findings, claimed: date, registered: date) -> bool:
    """Add the birth date's points; True when it matches at least partly."""
    if claimed == registered:
        found.points += BIRTH_DATE_WEIGHT
        found.reasons.append("birth date matches")
    elif claimed.year == registered.year and (claimed.day, claimed.month) == (
        registered.month,
        registered.day,
    ):
        found.points += BIRTH_SWAPPED_WEIGHT
        found.reasons.append(
            f"birth date matches only with day and month swapped ({registered.isoformat()})"
        )
    elif (claimed.year, claimed.month) == (registered.year, registered.month):
        found.points += BIRTH_YEAR_MONTH_WEIGHT
        found.reasons.append(
            f"birth date matches in year and month only ({registered.isoformat()})"
        )
    else:
        found.reasons.append(f"birth date differs (registry: {registered.isoformat()})")
        return False
    return True


def _compare_personal_numbers(
    found: _Findings, claimed: str | None, registered: str | None, state: str | None
) -> None:
    if not claimed or not registered:
        return
    where = state or ""
    a, b = normalise_personal_number(where, claimed), normalise_personal_number(where, registered)
    kind = "UNZR" if state == UNZR_STATE else "personal number"
    if a == b:
        found.points += PERSONAL_NUMBER_WEIGHT
        found.reasons.append(f"{kind} matches the registry's")
    else:
        found.penalty += PERSONAL_NUMBER_CONFLICT
        found.reasons.append(f"{kind} {a} differs from the registry's {b}")


def _compare_names(found: _Findings, person: Person, record: RegistryRecord) -> bool:
    """Add the name's points; True when the names match (across scripts)."""
    registered = f"{record.given_names} {record.surname}"
    claimed = [f"{person.given_names} {person.surname}", *person.other_names]
    best_name, best = max(
        ((name, match_names(name, registered)) for name in claimed),
        key=lambda pair: pair[1].score,
    )
    if best.score >= NAME_FLOOR:
        found.points += NAME_WEIGHT * Decimal(str(best.score))
    words = "; ".join(r for r in best.reasons if not r.startswith("score "))
    found.reasons.append(f"name '{best_name}' ~ '{registered}' ({best.score:.2f}): {words}")
    return best.is_match
