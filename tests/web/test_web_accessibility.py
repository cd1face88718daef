"""Contrast of every text colour on the background it is used on (WCAG 2.x, at least 4.5:1 for
normal text), read from the stylesheet and the charts' own colours; and the catalogues."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from api.web import timeline_svg
from api.web.i18n import LANGUAGES, translations
from api.web.pages import STATIC_DIR

CSS = (STATIC_DIR / "app.css").read_text()
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))

# (text, background, where)
PAIRS = [
    ("ink", "paper", "body text"),
    ("muted", "paper", "hints, secondary text"),
    ("muted", "#f3f5f7", "hints in the filter bar, table headers"),
    ("link", "paper", "links"),
    ("link", "#f3f5f7", "links in the filter bar"),
    ("#5a2d82", "paper", "visited links"),
    ("#ffffff", "brand", "header, buttons, 'your move'"),
    ("brand", "paper", "secondary buttons, the unread badge"),
    ("overdue", "paper", "overdue headings and countdowns, field errors"),
    ("overdue", "overdue-bg", "refused/lapsed status badges"),
    ("ink", "overdue-bg", "rows of overdue cases, error boxes"),
    ("soon", "paper", "amber headings and countdowns"),
    ("soon", "soon-bg", "prima facie grade, unverified badges"),
    ("ink", "soon-bg", "rows due within two working days"),
    ("ok", "ok-bg", "accepted status, proof grade"),
    ("ink", "ok-bg", "notices"),
    ("ink", "#e6e6e6", "other status badges"),
    (timeline_svg.NOW_COLOUR, "#ffffff", "the timeline's 'now'"),
    ("#333333", "#ffffff", "the charts' axis labels"),
]


def colour(name: str) -> str:
    return name if name.startswith("#") else VARIABLES[name]


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(("text", "background", "where"), PAIRS)
def test_text_contrast_is_at_least_4_5(text: str, background: str, where: str) -> None:
    ratio = contrast(colour(text), colour(background))
    assert ratio >= 4.5, f"{where}: {text} on {background} is {ratio:.2f}:1"


def test_focus_is_visible_and_the_skip_link_exists() -> None:
    assert ":focus-visible" in CSS and "outline: 3px solid" in CSS
    assert ".skip-link:focus" in CSS
    assert "@media (max-width: 820px)" in CSS  # tablets get stacked tables


def test_every_message_is_translated_and_the_compiled_catalogues_are_current() -> None:
    script = Path(__file__).resolve().parents[2] / "api/web/locale/compile.py"
    spec = importlib.util.spec_from_file_location("compile_catalogues", script)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    wanted = {m.id for m in tool.extract() if m.id}
    for lang in tool.LANGUAGES:
        with tool.po_path(lang).open("rb") as handle:
            catalogue = read_po(handle, locale=lang)
        done = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
        assert wanted <= done, f"{lang}: untranslated {sorted(wanted - done)[:10]}"
    checked = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    for lang in LANGUAGES:
        if lang == "en":
            continue
        compiled = translations(lang)
        assert compiled.gettext("Statistics") != "Statistics", lang
        assert compiled.gettext("Due within two working days") != "Due within two working days"
