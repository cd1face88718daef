"""The printable documents, rendered from factory cases and read back with pypdf: the name in
both scripts a case uses, the labels in its parties' languages with English, Romanian
diacritics and Ukrainian letters intact, and each document only once the case has it."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from io import BytesIO

import pytest
from factories import T0, at, open_case, run, terms
from pypdf import PdfReader
from transit_factories import REPLY_DUE as TRANSIT_REPLY_DUE
from transit_factories import SUBMITTED as TRANSIT_SUBMITTED
from transit_factories import open_transit, transit_terms

from adapters.documents import DOCUMENTS, DocumentUnavailable, available, render
from adapters.documents.forms import form
from adapters.documents.wording import LANGUAGES, keys, languages_of, word
from domain.agreements import OnExpiry
from domain.commands import (
    AcceptApplication,
    ConsentTransit,
    ExpireLimit,
    RefuseApplication,
    SubmitApplication,
)
from domain.state import CaseState
from domain.values import (
    ApprehensionPlace,
    EvidenceItem,
    Person,
    PlaceKind,
    Sealed,
    Status,
    TransferMode,
    TransferPlan,
)


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def polish_ukrainian() -> CaseState:
    state, _ = run([open_case()])
    return state


def moldovan() -> CaseState:
    person = Person(
        surname="Țurcanu",
        given_names="Ștefan",
        birth_date=date(1988, 3, 9),
        birth_place="Bălți",
        nationality="MD",
        address="str. Ștefan cel Mare 1, Chișinău",
    )
    evidence = EvidenceItem(
        kind="identity_card", number="B0123456", issued_by="ASP", valid_until=date(2031, 1, 1)
    )
    command = open_case(
        case_id="RO-MD-2027-000007",
        terms=terms(agreement_id="EU-MD", requesting="RO", requested="MD"),
        person=person,
        evidence=(evidence,),
        apprehension_place=ApprehensionPlace(kind=PlaceKind.LAND_BORDER, name="Sculeni"),
    )
    state, _ = run([command])
    return state


def test_the_polish_ukrainian_application_names_the_person_in_both_scripts() -> None:
    text = text_of(render("application", polish_ukrainian()))
    assert "SHEVCHENKO Oleksandr" in text
    assert "ШЕВЧЕНКО Олександр" in text
    assert "PL-UA-2027-000123" in text
    for label in ("Wniosek o readmisję", "Клопотання про реадмісію", "Readmission application"):
        assert label in text
    assert "Nazwisko" not in text  # the name is one field per script, not split
    assert "Imię i nazwisko (cyrylica) / Прізвище та ім'я (кирилицею)" in text
    assert "FA123456" in text and "1990-05-17" in text
    assert "Polska / Польща / Poland (PL)" in text and "Ukraina / Україна / Ukraine (UA)" in text
    assert "Medyka-Shehyni, Dorohusk-Yahodyn" in text  # the crossing points the terms name


def test_a_name_entered_in_cyrillic_is_printed_as_entered_and_romanised() -> None:
    person = Person(surname="Ковальчук", given_names="Юлія Ґенадіївна", birth_date=date(1995, 1, 2))
    state, _ = run([open_case(person=person)])
    text = text_of(render("application", state))
    assert "КОВАЛЬЧУК Юлія Ґенадіївна" in text  # ґ and ї survive the font and the extraction
    assert "KOVALCHUK Yuliia Genadiivna (" in text  # romanised (KMU 2010), and marked so


def test_a_cyrillic_spelling_among_the_other_names_is_preferred_to_a_transliteration() -> None:
    person = Person(
        surname="Shevchenko",
        given_names="Oleksandr",
        birth_date=date(1990, 5, 17),
        other_names=("Шевченко Олександр Іванович",),
    )
    state, _ = run([open_case(person=person)])
    text = text_of(render("application", state))
    assert "Шевченко Олександр Іванович" in text
    assert "ШЕВЧЕНКО Олександр" not in text


def test_the_moldovan_application_keeps_romanian_diacritics_and_has_no_cyrillic() -> None:
    state = moldovan()
    text = text_of(render("application", state))
    for written in ("ȚURCANU Ștefan", "Bălți", "Chișinău", "Sculeni", "Întocmită", "Cetățenia"):
        assert written in text, written
    assert "Cerere de readmisie" in text and "Readmission application" in text
    assert "Republica Moldova / Moldova (MD)" in text
    assert "кирилиц" not in text and "Cyrillic" not in text  # no Cyrillic party, none entered


def test_the_transit_application_prints_the_transit_in_german_romanian_and_english() -> None:
    state, _ = run([open_transit()])
    assert available(state) == ("transit-application",)
    text = text_of(render("transit-application", state))
    for written in ("Durchbeförderungsersuchen", "Cerere de tranzit", "Application for transit"):
        assert written in text
    assert "GE-MIA-2027/118" in text and "9U 171" in text and "Chișinău" in text
    assert "B. Beweismittel / B. Mijloace de probă / B. Means of evidence" in text
    assert "C. Durchbeförderung / C. Operațiunea de tranzit / C. Transit operation" in text
    assert "Verfahren" not in text and "Medyka" not in text  # a readmission's, not a transit's
    with pytest.raises(DocumentUnavailable, match="transit case"):
        render("application", state)


def test_the_reply_and_the_transfer_notice_exist_only_once_the_case_has_them() -> None:
    state = polish_ukrainian()
    for name in ("reply", "transfer-notice", "transit-application"):
        with pytest.raises(DocumentUnavailable):
            render(name, state)
    refused = state.model_copy(
        update={
            "status": Status.REFUSED,
            "replied_at": T0 + timedelta(days=3),
            "refusal_reasons": ("Паспорт FA123456 не видавався.",),
        }
    )
    assert available(refused) == ("application", "reply")
    text = text_of(render("reply", refused))
    assert "У клопотанні відмовлено." in text and "Wniosek został odrzucony." in text
    assert "Паспорт FA123456 не видавався." in text
    scheduled = state.model_copy(
        update={
            "status": Status.TRANSFER_SCHEDULED,
            "replied_at": T0 + timedelta(days=3),
            "transfer": TransferPlan(
                on=T0 + timedelta(days=20), bcp="Medyka–Shehyni", mode=TransferMode.LAND, escorts=2
            ),
        }
    )
    assert available(scheduled) == ("application", "reply", "transfer-notice")
    assert "Клопотання задоволено." in text_of(render("reply", scheduled))
    notice = text_of(render("transfer-notice", scheduled))
    assert "Medyka–Shehyni" in notice and "2027-01-24 10:00 (Europe/Warsaw)" in notice
    assert "lądowy / наземний / land" in notice
    assert "SHEVCHENKO Oleksandr" in notice and "ШЕВЧЕНКО Олександр" in notice


def test_the_reply_says_accepted_refused_or_deemed_as_the_decider_recorded_it() -> None:
    submitted, _ = run([open_case(), SubmitApplication(at=at("2027-01-05T12:00:00+02:00"))])
    accepted, _ = run([AcceptApplication(at=at("2027-01-10T09:00:00+02:00"))], submitted)
    assert "Клопотання задоволено." in text_of(render("reply", accepted))
    refused, _ = run(
        [RefuseApplication(at=at("2027-01-10T09:00:00+02:00"), reasons=("not a national",))],
        submitted,
    )
    text = text_of(render("reply", refused))
    assert "Wniosek został odrzucony." in text and "not a national" in text
    expiry = ExpireLimit(at=at("2027-01-20T00:00:00+02:00"), limit="reply")
    deemed, _ = run([expiry], submitted)
    assert deemed.status is Status.DEEMED_ACCEPTED
    text = text_of(render("reply", deemed))
    assert "the application is deemed accepted" in text and "Клопотання задоволено." not in text


def test_the_transfer_notice_quotes_the_protocols_answer_time() -> None:
    base = terms()
    rules = base.transfer.model_copy(
        update={"notice_reply_working_days": 3, "silence_is_consent": True}
    )
    state, _ = run([open_case(terms=base.model_copy(update={"transfer": rules}))])
    scheduled = state.model_copy(
        update={
            "replied_at": T0,
            "transfer": TransferPlan(on=T0 + timedelta(days=20), bcp="Medyka", mode="air"),
        }
    )
    text = " ".join(text_of(render("transfer-notice", scheduled)).split())  # lines unwrapped
    assert "Answer to this notice within (working days) 3" in text
    assert "Brak odpowiedzi w tym terminie oznacza zgodę na przekazanie." in text
    assert "lotniczy / повітряний / air" in text


def test_an_erased_case_prints_nothing() -> None:
    state = polish_ukrainian().model_copy(update={"person": Sealed(sealed="v1." + "A" * 40)})
    with pytest.raises(DocumentUnavailable, match="erased"):
        render("application", state)


def test_rendering_logs_nothing_of_the_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    render("application", polish_ukrainian())
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]
    assert not [r for r in caplog.records if "uni04" in r.getMessage()]  # Cyrillic glyphs


def test_the_same_case_gives_the_same_file() -> None:
    state = polish_ukrainian()
    assert render("application", state) == render("application", state)


def test_every_label_is_in_every_language() -> None:
    assert DOCUMENTS == ("application", "transit-application", "reply", "transfer-notice")
    missing = [(k, lang) for k in keys() for lang in LANGUAGES if not word(k, lang).strip()]
    assert not missing
    assert languages_of("PL", "UA") == ("pl", "uk", "en")
    assert languages_of("RO", "MD") == ("ro", "en")
    assert languages_of("BE", "GE") == ("en",)  # no labels of theirs: English alone


def outcome_of(state: CaseState) -> str:
    fields = [f for s in form("reply", state).sections for f in s.fields if f.label == "outcome"]
    assert len(fields) == 1
    return fields[0].value


def test_a_late_transit_consent_where_the_limit_escalates_is_printed_as_given() -> None:
    """Where silence is not consent the transit reply limit escalates and a late consent is
    still taken: it is the requested state's consent, not a deemed one (only a
    TransitDeemedConsented is)."""
    submitted, _ = run([open_transit(), SubmitApplication(at=TRANSIT_SUBMITTED)])
    assert submitted.deadlines["transit_reply"].on_expiry is not OnExpiry.DEEMED_CONSENTED
    late = ConsentTransit(at=TRANSIT_REPLY_DUE + timedelta(days=1), note="agreed")
    consented, _ = run([late], submitted)
    assert consented.status is Status.CONSENTED
    assert outcome_of(consented) == "consented"
    silent, _ = run(
        [
            open_transit(terms=transit_terms(silence_is_consent=True)),
            SubmitApplication(at=TRANSIT_SUBMITTED),
            ExpireLimit(at=TRANSIT_REPLY_DUE + timedelta(seconds=1), limit="transit_reply"),
        ]
    )
    assert silent.status is Status.DEEMED_CONSENTED
    assert outcome_of(silent) == "deemed_consented"


def test_characters_the_fonts_lack_refuse_the_document_and_stay_out_of_the_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """fpdf2 names the glyphs its font lacks in a warning, and leaves them out of the PDF: for
    a person's name in a script the shipped fonts do not cover, that would put the name in the
    logs and print it wrong. The document is refused instead (409), naming the field only."""
    caplog.set_level(logging.DEBUG)
    person = Person(
        surname="王秀英", given_names="Li", birth_date=date(1990, 1, 1), nationality="CN"
    )
    with pytest.raises(DocumentUnavailable) as refused:
        render("application", run([open_case(person=person)])[0])
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "王" not in logged and "\\u738b" not in logged
    assert "cannot print" in str(refused.value) and "王" not in str(refused.value)
