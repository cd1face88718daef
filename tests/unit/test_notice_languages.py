"""Notices in the recipient's language: every text `domain.notices` can put in a subject (read
from its code) is in each catalogue, and a stored English subject, the escalations' included,
comes out in the reader's language with its case id and its limit's end kept. (The e-mail:
tests/db/test_dispatch.py; the inbox page: tests/web/test_web_pages.py.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from babel.messages.pofile import read_po
from factories import T0, open_case, passport, run

from adapters.i18n import LOCALE_DIR, language, notice_messages, notice_subject
from domain.alarms import ACTING_SIDE
from domain.commands import AddEvidence, SubmitApplication
from domain.decider import evolve
from domain.events import DeadlineEscalated, Event
from domain.notices import ESCALATION_SUBJECTS, Notice, notices_for
from domain.values import EscalationLevel

TRANSLATED = ("pl", "de", "uk", "ro")
DUE = datetime(2027, 3, 1, 23, 59, tzinfo=UTC)


def test_the_subjects_are_read_from_the_domains_code() -> None:
    texts = notice_messages()
    assert "New readmission application" in texts and "New transit request" in texts
    assert "Transit failed: take the person back" in texts
    assert set(ESCALATION_SUBJECTS.values()) <= set(texts)
    assert {limit.replace("_", " ") for limit in ACTING_SIDE} <= set(texts)
    assert len(texts) == len(set(texts)) >= 40


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_subject_is_translated(lang: str) -> None:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=lang)
    found = {message.id: message.string for message in catalogue if message.id}
    missing = [text for text in notice_messages() if not found.get(text)]
    assert not missing, f"{lang}: {missing}"


def real_notices() -> list[Notice]:
    """What the domain makes of a submission and of every escalation of every limit."""
    start = run([])[0]
    opened, history = run([open_case(), AddEvidence(at=T0, items=(passport(),))])
    _, submission = run([SubmitApplication(at=T0 + timedelta(hours=1))], opened)
    escalated: list[Event] = [
        DeadlineEscalated(at=T0, limit=limit, level=level, due=DUE)
        for limit in ACTING_SIDE
        for level in EscalationLevel
    ]
    found: list[Notice] = []
    state = start
    for event in [*history, *submission, *escalated]:
        state = evolve(state, event)
        assert state.case_id is not None
        found += notices_for(state.case_id, [(uuid.uuid4(), event)], state)
    return found


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_domains_subjects_come_out_translated(lang: str) -> None:
    notices = real_notices()
    assert len(notices) > 4 * len(ACTING_SIDE)
    for notice in notices:
        shown = notice_subject(notice.subject, notice.case_id, lang)
        assert shown.startswith(f"{notice.case_id}: ") and shown != notice.subject, shown
        assert "{" not in shown and "_" not in shown, shown
        if notice.due is not None:
            assert "2027-03-01 23:59 UTC" in shown, shown


def test_an_escalation_keeps_its_limit_and_end_in_the_readers_words() -> None:
    subject = "UA-1: escalation: the accelerated reply limit passed at 2027-03-01 23:59 UTC"
    assert notice_subject(subject, "UA-1", "de-AT") == (
        "UA-1: Eskalation: die Frist „Antwort im beschleunigten Verfahren“ ist am"
        " 2027-03-01 23:59 UTC abgelaufen"
    )
    assert notice_subject(subject, "UA-1", "uk") == (
        "UA-1: ескалація: строк «прискорена відповідь» минув 2027-03-01 23:59 UTC"
    )


def test_english_and_unknown_languages_keep_the_stored_subject() -> None:
    subject = "PL-9: Application refused"
    assert notice_subject(subject, "PL-9", "en") == subject
    assert notice_subject(subject, "PL-9", "fr") == subject
    assert notice_subject("PL-9: something new", "PL-9", "pl") == "PL-9: something new"
    assert notice_subject(subject, "PL-9", "ro") == "PL-9: Cerere refuzată"
    assert [language(tag) for tag in ("uk-UA", "pl_PL", "DE", "", None, "xx")] == [
        "uk",
        "pl",
        "de",
        "en",
        "en",
        "en",
    ]
