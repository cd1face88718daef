"""Interface languages (English, Polish, German, Ukrainian, Romanian) from gettext catalogues,
and dates, times and durations formatted with Babel in the user's locale and a state's time zone.

Catalogues live in `locale/<lang>/LC_MESSAGES/messages.po`, loaded by `adapters.i18n` (the
dispatcher's e-mails use them too).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time, format_timedelta
from babel.numbers import format_decimal, format_percent

from adapters.i18n import (  # the catalogues' loading, shared with the e-mails of notices
    DEFAULT_LANGUAGE,
    DOMAIN,
    LANGUAGES,
    LOCALE_DIR,
    N_,
    translations,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "Formatter",
    "negotiate",
    "translations",
]


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if it is one of ours, else the browser's best match, else English."""
    if cookie in LANGUAGES:
        return cookie
    wanted = []
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if tag:
            wanted.append(tag)
    try:
        found = Locale.negotiate(wanted, list(LANGUAGES), sep="_")
    except (ValueError, UnknownLocaleError):
        found = None
    return str(found.language) if found and found.language in LANGUAGES else DEFAULT_LANGUAGE


def _aware(value: datetime | str) -> datetime:
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


class Formatter:
    """Dates, times, numbers and durations in one language; instants in a named time zone."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.translations = translations(self.lang)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def instant(self, value: datetime | str | None, zone: str, *, with_zone: bool = True) -> str:
        """'27 лист. 2026 р., 04:12 EET': the instant in `zone`, with the zone's abbreviation."""
        if value is None or value == "":
            return "—"
        local = _aware(value).astimezone(ZoneInfo(zone))
        text = (
            f"{format_date(local, 'medium', locale=self.lang)}, "
            f"{format_time(local, 'short', locale=self.lang)}"
        )
        return f"{text} {local.strftime('%Z')}" if with_zone else text

    def day(self, value: datetime | str | None, zone: str | None = None) -> str:
        if value is None or value == "":
            return "—"
        instant = datetime.fromisoformat(value) if isinstance(value, str) else value
        if zone and isinstance(instant, datetime):
            instant = _aware(instant).astimezone(ZoneInfo(zone))
        return format_date(instant, "medium", locale=self.lang)

    def tick(self, value: datetime, zone: str, timed: bool) -> str:
        """An axis label: '27 Nov' (or '14:00' when the axis counts hours)."""
        local = _aware(value).astimezone(ZoneInfo(zone))
        return format_skeleton("Hm" if timed else "MMMd", local, locale=self.lang)

    def relative(self, due: datetime | str, now: datetime) -> str:
        """'in 3 days', '5 hours ago': the largest whole unit (days from 2 days, hours from 2)."""
        delta = _aware(due) - now
        return format_timedelta(
            rounded(delta),
            granularity=unit_of(delta),
            threshold=1e9,  # never switch to a larger unit than `unit_of` chose
            add_direction=True,
            locale=self.lang,
        )

    def number(self, value: float | int, digits: int = 1) -> str:
        return format_decimal(round(value, digits), locale=self.lang)

    def percent(self, value: float) -> str:
        return format_percent(value, locale=self.lang)


Unit = Literal["day", "hour", "minute"]


def unit_of(delta: timedelta) -> Unit:
    seconds = abs(delta.total_seconds())
    if seconds >= 2 * 86400:
        return "day"
    if seconds >= 2 * 3600:
        return "hour"
    return "minute"


def rounded(delta: timedelta) -> timedelta:
    """`delta` truncated to whole units of `unit_of(delta)` (a countdown never rounds up)."""
    size = {"day": 86400, "hour": 3600, "minute": 60}[unit_of(delta)]
    seconds = delta.total_seconds()
    whole = int(abs(seconds) // size) * size
    return timedelta(seconds=whole if seconds >= 0 else -whole)
