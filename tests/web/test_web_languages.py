"""The pages' languages without a server: which ones the menu offers, how a browser's or a
cookie's choice is negotiated, that every catalogue keeps the English placeholders and the
plural rules of its language, and that dates and numbers follow the reader's locale."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from api.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR, Formatter, negotiate

TRANSLATED = [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE]

# What a translation must carry over unchanged: named placeholders, `commands`, setting names.
KEPT = re.compile(r"%\([a-z_]+\)[sd]|`[^`]+`|READMIT_[A-Z_]+")


def forms(text: str | Sequence[str] | None) -> list[str]:
    """A message's id or string as a list (several when it has plural forms)."""
    return [text] if isinstance(text, str) else list(text or ())


def test_the_menu_offers_polish_and_german_in_their_own_names() -> None:
    assert list(LANGUAGES) == ["en", "pl", "de", "uk", "ro"]
    assert LANGUAGES["pl"] == "Polski" and LANGUAGES["de"] == "Deutsch"


@pytest.mark.parametrize(
    ("cookie", "accept_language", "chosen"),
    [
        (None, "pl-PL,pl;q=0.9,en;q=0.5", "pl"),
        (None, "de-DE,de;q=0.9,en;q=0.8", "de"),
        (None, "de-AT", "de"),
        (None, "fr-FR,fr;q=0.9,de;q=0.3", "de"),
        (None, "uk-UA,pl;q=0.5", "uk"),
        (None, "fr-FR", "en"),
        (None, None, "en"),
        ("de", "pl-PL", "de"),
        ("pl", None, "pl"),
        ("xx", "pl", "pl"),
    ],
)
def test_the_cookie_wins_then_the_browser_then_english(
    cookie: str | None, accept_language: str | None, chosen: str
) -> None:
    assert negotiate(cookie, accept_language) == chosen


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_translation_keeps_the_placeholders_and_the_plural_rule(lang: str) -> None:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=lang)
    rule = get_plural(lang)
    assert (catalogue.num_plurals, catalogue.plural_expr) == (rule.num_plurals, rule.plural_expr)
    changed = []
    for message in catalogue:
        if not message.id:
            continue
        ids, strings = forms(message.id), forms(message.string)
        wanted = sorted(KEPT.findall(ids[-1]))  # the plural's msgid names every placeholder
        changed += [ids[0] for s in strings if sorted(KEPT.findall(s)) != wanted]
    assert not changed, f"{lang}: placeholders differ in {changed[:5]}"


def test_polish_and_german_use_their_own_terms() -> None:
    """The agreements' words, not English left in place: spot checks of the catalogues."""
    polish, german = Formatter("pl"), Formatter("de")
    assert polish.gettext("Requested state") == "Państwo wezwane"
    assert polish.gettext("Requesting state") == "Państwo wzywające"
    assert polish.gettext("Border crossing point") == "Przejście graniczne"
    assert german.gettext("Requested state") == "Ersuchter Staat"
    assert german.gettext("Requesting state") == "Ersuchender Staat"
    assert german.gettext("Transfer") == "Überstellung"
    assert german.gettext("Border crossing point") == "Grenzübergangsstelle"


def test_dates_durations_and_numbers_follow_the_locale() -> None:
    now = datetime(2026, 11, 27, 2, 12, tzinfo=UTC)
    polish, german = Formatter("pl"), Formatter("de")
    assert polish.instant(now, "Europe/Warsaw") == "27 lis 2026, 03:12 CET"
    assert german.instant(now, "Europe/Berlin") == "27.11.2026, 03:12 CET"
    assert polish.relative(now + timedelta(days=3, hours=1), now) == "za 3 dni"
    assert german.relative(now - timedelta(hours=5), now) == "vor 5 Stunden"
    assert polish.number(1234.56) == "1\xa0234,6"
    assert german.number(1234.56) == "1.234,6"
    assert german.percent(0.875) == "88\xa0%"
