"""The fields of the case page's evidence form (one document: its kind and number), shared by
the case page that shows it and the routes that fill it from a scan and post it
(api/web/mrz_pages.py)."""

from __future__ import annotations

from api.commands import Field
from api.web.i18n import N_

EVIDENCE_FORM = "mrz_evidence"
EVIDENCE_FIELDS = (
    Field(
        "kind",
        N_("Kind of document"),
        required=True,
        hint=N_("e.g. passport, identity_card, birth_certificate"),
    ),
    Field("number", N_("Number")),
)
