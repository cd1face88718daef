"""Printable documents of a case, as PDF in its parties' languages with English.

Made on request from the case's state with the personal data opened for the caller, never
stored: `render(name, state)` gives the bytes, `available(state)` the documents the case has.
"""

from __future__ import annotations

from adapters.documents.forms import DOCUMENTS, DocumentUnavailable, available, form
from adapters.documents.layout import Unprintable
from adapters.documents.layout import render as _layout
from domain.state import CaseState


def render(name: str, state: CaseState) -> bytes:
    """Document `name` (`application`, `transit-application`, `reply`, `transfer-notice`) of
    the case as PDF; `DocumentUnavailable` when the case has none (yet), or when its data has
    characters the shipped fonts cannot print (rather than a document that leaves them out)."""
    try:
        return _layout(form(name, state))
    except Unprintable as unprintable:
        raise DocumentUnavailable(str(unprintable)) from None


__all__ = ["DOCUMENTS", "DocumentUnavailable", "available", "render"]
