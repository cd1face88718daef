"""The four printable documents of a case, made from its state with the personal data opened:
the readmission application (the agreements' annexed form), the transit application, the
requested state's reply and the notice of transfer.

Each document exists once the case has reached the step that makes it: `available` says which
do, `form` builds one or raises `DocumentUnavailable` with the reason (the API answers 409).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from babel import Locale

from adapters.documents.layout import Field, Form, Section
from adapters.documents.wording import languages_of
from domain.agreements import AgreementTerms, OnExpiry
from domain.calendars import zone_of
from domain.identity.cyrillic import name_in_scripts
from domain.state import CaseState
from domain.transit_request import Assurance
from domain.values import ApprehensionPlace, GradedEvidence, Person


class DocumentUnavailable(Exception):
    """The case has no such document (yet, or for its kind), or its personal data is gone."""


# a document's name (its file name without .pdf) -> whether the case has it
_HAS: dict[str, Callable[[CaseState], bool]] = {
    "application": lambda s: s.opened and not s.is_transit,
    "transit-application": lambda s: s.opened and s.is_transit,
    "reply": lambda s: s.replied_at is not None,
    "transfer-notice": lambda s: s.transfer is not None or s.transit_plan is not None,
}
DOCUMENTS: tuple[str, ...] = tuple(_HAS)
_WHY_NOT = {
    "application": "a transit case has a transit application, not a readmission application",
    "transit-application": "only a transit case has a transit application",
    "reply": "the requested state has not replied yet",
    "transfer-notice": "no transfer has been scheduled yet",
}


def available(state: CaseState) -> tuple[str, ...]:
    """The documents the case has now, in the order of the procedure."""
    return tuple(name for name, has in _HAS.items() if has(state))


def form(name: str, state: CaseState) -> Form:
    """Document `name` of the case (`state` with its personal data opened)."""
    if name not in _HAS:
        raise DocumentUnavailable(f"no document {name}")
    if not _HAS[name](state):
        raise DocumentUnavailable(_WHY_NOT[name])
    if not isinstance(state.person, Person):
        raise DocumentUnavailable("the personal data of this case was erased")
    return _BUILDERS[name](state)


def _application(state: CaseState) -> Form:
    terms = _terms(state)
    circumstances = [
        Field("knowledge_at", _instant(state, state.knowledge_at, terms.requesting)),
        Field("apprehended_at", _instant(state, state.apprehended_at, terms.requesting)),
        Field("apprehension_place", _place(state.apprehension_place)),
    ]
    return _document(
        state,
        "application",
        (
            Section("section_person", _person(state)),
            Section("section_evidence", _evidence(state.evidence)),
            Section("section_circumstances", tuple(f for f in circumstances if f.value)),
            Section("section_procedure", _submission(state)),
        ),
    )


def _transit_application(state: CaseState) -> Form:
    request = state.transit
    assert request is not None
    flight = request.flight
    flight_text = (
        " ".join(x for x in (flight.number, flight.departs_from, flight.arrives_at) if x)
        if flight
        else ""
    )
    transit = [
        Field("destination", _state_name(request.destination, _languages(state))),
        Field("assurance", _assurance(request.assurance)),
        Field("planned_at", _instant(state, request.planned_at, _terms(state).requested)),
        Field("entry_point", request.entry_point),
        Field("exit_point", request.exit_point),
        Field("escorts", str(request.escorts)),
        Field("flight", flight_text),
    ]
    return _document(
        state,
        "transit_application",
        (
            Section("section_person", _person(state)),
            Section("section_evidence", _evidence(state.evidence)),
            Section("section_transit", tuple(f for f in transit if f.value)),
            Section("section_procedure", _submission(state)),
        ),
    )


def _reply(state: CaseState) -> Form:
    terms = _terms(state)
    refused = bool(state.refusal_reasons)
    decision = "consented" if state.is_transit else "accepted"
    if refused:
        decision = "refused"
    elif _deemed(state):
        decision = f"deemed_{decision}"
    fields = [
        Field("outcome", decision, translated=True),
        Field("replied_at", _instant(state, state.replied_at, terms.requested)),
    ]
    if refused and isinstance(state.refusal_reasons, tuple):
        fields.append(Field("reasons", "\n".join(state.refusal_reasons)))
    return _document(
        state,
        "reply",
        (Section("section_person", _person(state)), Section("section_reply", tuple(fields))),
    )


_REPLY_LIMITS = ("reply", "accelerated_reply", "transit_reply")


def _deemed(state: CaseState) -> bool:
    """Whether the reply is the silence of the limit: it came after a reply limit ran out whose
    expiry is a deemed reply. (Where a transit reply limit escalates instead, a consent after it
    is still the requested state's own, given late, not a deemed one.)"""
    replied = state.replied_at
    assert replied is not None
    limits = (state.deadlines[n] for n in _REPLY_LIMITS if n in state.deadlines)
    return any(d.on_expiry in _DEEMED and d.has_passed(replied) for d in limits)


_DEEMED = (OnExpiry.DEEMED_ACCEPTED, OnExpiry.DEEMED_CONSENTED)


def _transfer_notice(state: CaseState) -> Form:
    terms = _terms(state)
    fields: list[Field]
    if state.transfer is not None:
        plan = state.transfer
        fields = [
            Field("transfer_on", _instant(state, plan.on, terms.requesting)),
            Field("bcp", plan.bcp),
            Field("mode", plan.mode.value, translated=True),
            Field("escorts", str(plan.escorts)),
        ]
        rules = terms.transfer
        if rules.notice_reply_working_days:
            fields.append(Field("answer_within", str(rules.notice_reply_working_days)))
            if rules.silence_is_consent:
                fields.append(Field("answer", "silence_is_consent", translated=True))
    else:
        transit = state.transit_plan
        assert transit is not None
        fields = [
            Field("transfer_on", _instant(state, transit.on, terms.requested)),
            Field("entry_point", transit.entry_point),
            Field("exit_point", transit.exit_point),
            Field("escorts", str(transit.escorts)),
        ]
        if transit.flight is not None:
            fields.append(Field("flight", transit.flight.number))
    return _document(
        state,
        "transfer_notice",
        (Section("section_person", _person(state)), Section("section_transfer", tuple(fields))),
    )


_BUILDERS: dict[str, Callable[[CaseState], Form]] = {
    "application": _application,
    "transit-application": _transit_application,
    "reply": _reply,
    "transfer-notice": _transfer_notice,
}


def _document(state: CaseState, title: str, sections: tuple[Section, ...]) -> Form:
    terms = _terms(state)
    assert state.case_id is not None and state.opened_at is not None
    agreement = terms.title + (f" ({terms.protocol_state})" if terms.protocol_state else "")
    languages = _languages(state)
    return Form(
        title=title,
        case_id=state.case_id,
        languages=languages,
        created_at=state.updated_at or state.opened_at,
        header=(
            Field("case_number", state.case_id),
            Field("agreement", f"{terms.agreement_id}: {agreement}"),
            Field("requesting_state", _state_name(terms.requesting, languages)),
            Field("requested_state", _state_name(terms.requested, languages)),
        ),
        sections=sections,
    )


def _person(state: CaseState) -> tuple[Field, ...]:
    person = state.person
    assert isinstance(person, Person)
    languages = _languages(state)
    name = name_in_scripts(person.surname, person.given_names, person.other_names, languages)
    fields = [
        Field(
            "name_latin", name.latin, note="transliterated" if name.latin_transliterated else None
        )
    ]
    if name.cyrillic:
        note = "transliterated" if name.cyrillic_transliterated else None
        fields.append(Field("name_cyrillic", name.cyrillic, note=note))
    fields += [
        Field("birth_date", person.birth_date.isoformat()),
        Field("birth_place", person.birth_place or ""),
        Field("sex", person.sex or ""),
        Field("nationality", person.nationality or ""),
        Field("other_names", ", ".join(person.other_names)),
        Field("personal_number", person.personal_number or ""),
        Field("address", person.address or ""),
        Field("category", state.category.value if state.category else "", translated=True),
    ]
    return tuple(f for f in fields if f.value)


def _evidence(evidence: tuple[GradedEvidence, ...]) -> tuple[Field, ...]:
    if not evidence:
        return (Field("document", "—"),)
    fields = []
    for graded in evidence:
        item = graded.item
        parts = [item.kind.replace("_", " "), item.number or "—"]
        if item.issued_by:
            parts.append(item.issued_by)
        if item.valid_until:
            parts.append(f"→ {item.valid_until.isoformat()}")
        fields.append(Field("document", ", ".join(parts), note=graded.grade.value))
    return tuple(fields)


def _submission(state: CaseState) -> tuple[Field, ...]:
    """When the application was drawn up and sent; for a readmission also its procedure and
    the crossing points the terms name for the transfer (a transit has neither)."""
    requesting = _terms(state).requesting
    readmission = not state.is_transit
    procedure = state.procedure.value if state.procedure and readmission else ""
    fields = [
        Field("procedure", procedure, translated=True),
        Field("opened_at", _instant(state, state.opened_at, requesting)),
        Field("submitted_at", _instant(state, state.submitted_at, requesting)),
        Field("bcps", ", ".join(_terms(state).transfer.bcps) if readmission else ""),
    ]
    return tuple(f for f in fields if f.value)


def _languages(state: CaseState) -> tuple[str, ...]:
    terms = _terms(state)
    return languages_of(terms.requesting, terms.requested)


def _terms(state: CaseState) -> AgreementTerms:
    assert state.terms is not None
    return state.terms


def _instant(state: CaseState, at: datetime | None, party: str) -> str:
    if at is None:
        return ""
    zone = zone_of(party, _terms(state).time_zones)
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def _state_name(code: str, languages: tuple[str, ...]) -> str:
    """ "Polska / Польща / Poland (PL)": the state's name in each language of the form (CLDR)."""
    names = (Locale.parse(lang).territories.get(code, code) for lang in languages)
    return f"{' / '.join(dict.fromkeys(names))} ({code})"


def _assurance(assurance: Assurance) -> str:
    given = f"{assurance.reference}, {assurance.given_on.isoformat()}"
    return f"{given}, {assurance.given_by}" if assurance.given_by else given


def _place(place: ApprehensionPlace | None) -> str:
    if place is None:
        return ""
    parts = [place.kind.value.replace("_", " ")]
    if isinstance(place.name, str):
        parts.append(place.name)
    if place.km_from_border is not None:
        parts.append(f"{place.km_from_border} km")
    return ", ".join(parts)
