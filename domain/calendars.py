"""Time zones and working-day calendars of the states Readmit deals with.

Working days come from the `holidays` package (default categories); a state's official working
Saturdays (e.g. Belarus's transferred days) count as working days, which is what
`HolidayBase.is_working_day` implements. Calendars are memoised per state: they are pure data.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib.metadata import version
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

HOLIDAYS_VERSION: str = version("holidays")

# IANA zone of each state's capital: the time in which that state's authorities act.
TIME_ZONES: dict[str, str] = {
    "AT": "Europe/Vienna",
    "BE": "Europe/Brussels",
    "BG": "Europe/Sofia",
    "BY": "Europe/Minsk",
    "CH": "Europe/Zurich",
    "CY": "Asia/Nicosia",
    "CZ": "Europe/Prague",
    "DE": "Europe/Berlin",
    "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn",
    "ES": "Europe/Madrid",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "GE": "Asia/Tbilisi",
    "GR": "Europe/Athens",
    "HR": "Europe/Zagreb",
    "HU": "Europe/Budapest",
    "IE": "Europe/Dublin",
    "IS": "Atlantic/Reykjavik",
    "IT": "Europe/Rome",
    "LI": "Europe/Vaduz",
    "LT": "Europe/Vilnius",
    "LU": "Europe/Luxembourg",
    "LV": "Europe/Riga",
    "MD": "Europe/Chisinau",
    "MT": "Europe/Malta",
    "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo",
    "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon",
    "RO": "Europe/Bucharest",
    "RU": "Europe/Moscow",
    "SE": "Europe/Stockholm",
    "SI": "Europe/Ljubljana",
    "SK": "Europe/Bratislava",
    "UA": "Europe/Kyiv",
}

EU_MEMBER_STATES: frozenset[str] = frozenset(
    {
        *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"),
        *("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
    }
)


class UnknownState(ValueError):
    """A state code with no known time zone or holiday calendar."""


def zone_of(state: str, overrides: dict[str, str] | None = None) -> ZoneInfo:
    """The IANA time zone in which `state` acts (an agreement file may override it)."""
    name = (overrides or {}).get(state) or TIME_ZONES.get(state)
    if name is None:
        raise UnknownState(f"no time zone known for state {state!r}; set it in time_zones")
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownState(f"time zone {name!r} of state {state!r} is not an IANA zone") from exc


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def _calendar(state: str) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(state)
    except NotImplementedError as exc:
        raise UnknownState(f"no holiday calendar known for state {state!r}") from exc


def is_working_day(states: tuple[str, ...], day: date) -> bool:
    """True when `day` is a working day in every one of `states`."""
    return all(_calendar(state).is_working_day(day) for state in states)


def check_state(state: str, overrides: dict[str, str] | None = None) -> None:
    """Raise `UnknownState` unless both a zone and a calendar are known for `state`."""
    zone_of(state, overrides)
    _calendar(state)
