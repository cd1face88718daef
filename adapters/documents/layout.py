"""Laying a form out as a PDF with fpdf2: a title in the form's languages, its reference lines,
then sections of labelled fields, each label in every language above its value.

The fonts (DejaVu Sans, shipped in fonts/ with its licence) cover Latin with Polish, Romanian
and German letters and Cyrillic with Ukrainian and Russian ones, so a form prints the same on
any host. The creation date is the case's own (never the clock): the same case gives the same
file, which tests compare and an auditor can reproduce.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from adapters.documents.wording import word, words

# fontTools logs, at INFO, the glyphs each subset keeps, and fpdf2, at WARNING, the characters
# the font lacks: the letters of the document, the person's name among them. Personal data stays
# out of the logs, so these loggers stay quiet below errors.
for _logger in ("fontTools", "fpdf"):
    logging.getLogger(_logger).setLevel(logging.ERROR)

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVuSans"
_LABEL_SIZE = 7.5
_VALUE_SIZE = 10.5
_LINE = 5.0
# after each line: back to the left margin, on the next line; text left-aligned, never justified
_NEXT: dict[str, Any] = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT, "align": "L"}


@dataclass(frozen=True)
class Field:
    """One labelled value; `translated`: the value is a label key, printed in every language of
    the form; `note` is a label key printed after the value ("transliterated")."""

    label: str
    value: str
    note: str | None = None
    translated: bool = False


@dataclass(frozen=True)
class Section:
    heading: str | None
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Form:
    """A printable document: its title (a label key), reference lines and sections."""

    title: str
    case_id: str
    languages: tuple[str, ...]
    created_at: datetime
    header: tuple[Field, ...]
    sections: tuple[Section, ...] = field(default=())
    signature: bool = True


class _Document(FPDF):
    def __init__(self, form: Form) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.form = form
        self.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_creation_date(form.created_at)
        # metadata names the document and the case, never the person
        self.set_title(f"{words(form.title, ('en',))} {form.case_id}")
        self.set_creator("Readmit")
        self.set_lang(form.languages[0])

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(90)
        text = f"{words('generated', self.form.languages)} · {self.form.case_id} · {self.page_no()}"
        self.cell(0, 4, text, align="C")


class Unprintable(ValueError):
    """The form holds characters its fonts lack (a script other than Latin and Cyrillic, say):
    fpdf2 would leave them out, printing a name wrong without a word."""


def _check_printable(pdf: FPDF, form: Form) -> None:
    """`Unprintable` when a value of the form has a character the value font has no glyph for
    (the message names neither the characters nor the field's value: they are personal data)."""
    font = pdf.fonts[FAMILY.lower()]
    covered = font.cmap if isinstance(font, TTFFont) else {}
    for item in (*form.header, *(f for section in form.sections for f in section.fields)):
        if any(ord(c) not in covered and not c.isspace() for c in item.value):
            raise Unprintable(f"{item.label}: characters the document's fonts cannot print")


def render(form: Form) -> bytes:
    """The form as PDF bytes; `Unprintable` when its fonts lack a character of a value."""
    pdf = _Document(form)
    _check_printable(pdf, form)
    pdf.add_page()
    for index, language in enumerate(form.languages):
        pdf.set_font(FAMILY, "B" if index == 0 else "", 15 if index == 0 else 12)
        pdf.multi_cell(0, 7, words(form.title, (language,)), **_NEXT)
    pdf.ln(2)
    for item in form.header:
        _field(pdf, form, item)
    lettered = (section for section in form.sections if section.heading)
    letters = {id(section): chr(ord("A") + n) for n, section in enumerate(lettered)}
    for section in form.sections:
        pdf.ln(3)
        if section.heading:
            pdf.set_draw_color(120)
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
            pdf.ln(1.5)
            pdf.set_font(FAMILY, "B", 11)
            letter = letters[id(section)]
            heading = " / ".join(
                dict.fromkeys(f"{letter}. {word(section.heading, lang)}" for lang in form.languages)
            )
            pdf.multi_cell(0, 6, heading, **_NEXT)
        for item in section.fields:
            _field(pdf, form, item)
    if form.signature:
        pdf.ln(12)
        pdf.set_font(FAMILY, "", _LABEL_SIZE)
        pdf.cell(70, 4, "_" * 40, **_NEXT)
        pdf.multi_cell(0, 4, words("signature", form.languages), **_NEXT)
    return bytes(pdf.output())


def _field(pdf: FPDF, form: Form, item: Field) -> None:
    pdf.set_font(FAMILY, "", _LABEL_SIZE)
    pdf.set_text_color(80)
    pdf.multi_cell(0, 3.6, words(item.label, form.languages), **_NEXT)
    pdf.set_text_color(0)
    pdf.set_font(FAMILY, "", _VALUE_SIZE)
    value = words(item.value, form.languages) if item.translated else item.value
    if item.note:
        value = f"{value} ({words(item.note, form.languages)})"
    pdf.multi_cell(0, _LINE, value, **_NEXT)
    pdf.ln(1)
