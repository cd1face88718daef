"""Maintain the pages' gettext catalogues with Babel.

    python api/web/locale/compile.py            # compile every messages.po into messages.mo
    python api/web/locale/compile.py --check    # exit 1 if a .mo is missing or out of date
    python api/web/locale/compile.py --extract  # refresh messages.pot from the code and
                                                # templates, merge it into each messages.po

The pages compile a `.po` in memory when its `.mo` is missing or older (see `api.web.i18n`), so a
clean checkout works either way; the compiled files are shipped for speed.
"""

from __future__ import annotations

import argparse
import sys
from gettext import GNUTranslations
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
WEB = HERE.parent
DOMAIN = "messages"
LANGUAGES = ("pl", "de", "uk", "ro")
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {
    "**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true"},
}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def po_path(lang: str) -> Path:
    return HERE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    template = Catalog(project="readmit", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        WEB,
        method_map=METHODS,
        options_map=OPTIONS,
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
    ):
        if "/locale/" in f"/{filename}":
            continue
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for message in command_words():
        template.add(message, None, [("../commands.py", 0)])
    for message in notice_words():
        template.add(message, None, [("../../domain/notices.py", 0)])
    for filename, lineno, message, _comments, context in extract_from_dir(
        WEB.parent.parent / "adapters", method_map=[("outbox.py", "python")], keywords=KEYWORDS
    ):
        template.add(message, None, [(f"../../adapters/{filename}", lineno)], context=context)
    return template


def command_words() -> list[str]:
    """The pages' words that the command catalogue holds (api/commands.py, outside api/web):
    each command's title and its form's labels and hints."""
    from api.commands import PRESENTED  # the project, not needed by --check

    words = []
    for command in PRESENTED.values():
        words.append(command.title)
        for found in command.fields:
            words += [found.label, *([found.hint] if found.hint else [])]
    return words


def notice_words() -> list[str]:
    """The notices' subjects (domain/notices.py, outside api/web), which e-mails and the inbox
    page show in the reader's language: `adapters.i18n.notice_messages` reads them from the code.
    The e-mail's own lines are extracted from adapters/outbox.py."""
    from adapters.i18n import notice_messages  # the project, not needed by --check

    return list(notice_messages())


def update(template: Catalog) -> None:
    with (HERE / f"{DOMAIN}.pot").open("wb") as handle:
        write_po(handle, template, width=100, omit_header=False, sort_output=True)
    for lang in LANGUAGES:
        path = po_path(lang)
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=lang, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True, ignore_obsolete=True)
        missing = [m.id for m in catalog if m.id and not m.string]
        if missing:
            print(f"{lang}: {len(missing)} untranslated: {missing[:5]}...", file=sys.stderr)


def compiled(lang: str) -> bytes:
    with po_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    out = BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def messages(mo: bytes) -> dict[object, str]:
    """The translations a compiled catalogue holds (its header aside): what --check compares,
    so another Babel version writing other bytes is no reason to fail."""
    catalog = dict(GNUTranslations(BytesIO(mo))._catalog)  # type: ignore[attr-defined]
    catalog.pop("", None)
    return catalog


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", action="store_true", help="refresh .pot and merge into .po")
    parser.add_argument("--check", action="store_true", help="fail if a .mo is out of date")
    args = parser.parse_args(argv)
    if args.extract:
        update(extract())
    stale = []
    for lang in LANGUAGES:
        mo = po_path(lang).with_suffix(".mo")
        content = compiled(lang)
        if args.check:
            if not mo.exists() or messages(mo.read_bytes()) != messages(content):
                stale.append(str(mo))
            continue
        mo.write_bytes(content)
        print(f"compiled {mo.relative_to(WEB.parent.parent)}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run {Path(__file__).name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
