"""The gettext catalogues of the pages and the notices, and a notice's subject in a language.

The catalogues are the pages' (`api/web/locale/<lang>/LC_MESSAGES/messages.po`, shipped as that
package's data); they are read here so that the outbox's dispatcher, an adapter, can write an
e-mail in its recipient's language without importing `api` (`api.web.i18n` uses this loading).
The compiled `.mo` is used when it is at least as new as the `.po`, otherwise the `.po` is
compiled in memory, so a clean checkout without compiled catalogues still speaks every language.

A notice's subject is stored in English (`domain.notices`: "<case id>: <text>"), which the inbox
API and the webhooks keep; `notice_subject` translates it for a person, the text being a catalogue
message and an escalation's text one of `domain.notices.ESCALATION_SUBJECTS` with its limit's
name translated and its end kept as written. `notice_messages` lists every text the domain can
put in a subject, read from its code, for the catalogue's extraction and its test.
"""

from __future__ import annotations

import ast
import gettext
import inspect
import re
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from domain import notices
from domain.alarms import ACTING_SIDE

LANGUAGES: dict[str, str] = {
    "en": "English",
    "pl": "Polski",
    "de": "Deutsch",
    "uk": "Українська",
    "ro": "Română",
}
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "api" / "web" / "locale"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here (it is translated at render)."""
    return message


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of `lang` (English is the source language: no catalogue)."""
    if lang not in LANGUAGES or lang == DEFAULT_LANGUAGE:
        return NullTranslations()
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def language(tag: str | None) -> str:
    """Our language for a directory's language tag ('uk-UA' -> 'uk'), English when we lack it."""
    primary = (tag or "").replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def notice_subject(subject: str, case_id: str, lang: str | None) -> str:
    """The stored English `subject` of a notice of `case_id` in `lang` (a language tag); a text
    the catalogue lacks stays in English."""
    text = translations(language(lang)).gettext
    prefix = f"{case_id}: "
    if not subject.startswith(prefix):
        return text(subject)
    rest = subject[len(prefix) :]
    for template, pattern in _escalation_patterns():
        found = pattern.fullmatch(rest)
        if found:
            return prefix + text(template).format(limit=text(found["limit"]), due=found["due"])
    return prefix + text(rest)


@cache
def _escalation_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each escalation's template and a pattern reading its limit and end back from a subject."""
    found = []
    for template in (*notices.ESCALATION_SUBJECTS.values(), notices.REPEATED_SUBJECT):
        pattern = re.escape(template)
        pattern = pattern.replace(r"\{limit\}", "(?P<limit>.+?)").replace(r"\{due\}", "(?P<due>.+)")
        found.append((template, re.compile(pattern)))
    return tuple(found)


@cache
def notice_messages() -> tuple[str, ...]:
    """Every text `domain.notices` can put in a subject after the case id: the events' subjects
    (the string constants its `_event_notice` returns and `notices_for` assigns to `subject`),
    the escalations' templates and the limits' names they take."""
    tree = ast.parse(inspect.getsource(notices))
    texts: list[str] = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if function.name == "_event_notice" and isinstance(node, ast.Return):
                values = node.value.elts if isinstance(node.value, ast.Tuple) else []
                texts += [
                    v.value
                    for v in values[2:3]
                    if isinstance(v, ast.Constant) and isinstance(v.value, str)
                ]
            if function.name == "notices_for" and isinstance(node, ast.Assign):
                named = [t.id for t in node.targets if isinstance(t, ast.Name)]
                value = node.value
                if named == ["subject"] and isinstance(value, ast.Constant):
                    texts.append(str(value.value))
    texts += notices.ESCALATION_SUBJECTS.values()
    texts.append(notices.REPEATED_SUBJECT)  # a repeated escalation's (domain.escalations)
    texts += [limit.replace("_", " ") for limit in ACTING_SIDE]
    return tuple(dict.fromkeys(texts))
