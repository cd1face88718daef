"""`readmit case document CASE_ID NAME -o FILE`: save one of a case's printable documents.

The PDF comes from `GET /cases/{id}/documents/<name>.pdf` (made on request, recorded in the
disclosure log, as every download is); a document the case has not reached yet exits 1 with
the API's reason. The file is written only once the whole document has arrived.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from adapters.documents import DOCUMENTS
from readmit.cli.case_commands import CaseId
from readmit.cli.case_session import Session, connected
from readmit.cli.common import fail, print_json

Name = Annotated[
    str,
    typer.Argument(metavar="NAME", help=f"the document: {', '.join(DOCUMENTS)}"),
]
Output = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="file to write (default: CASE_ID-NAME.pdf here; '-': stdout)"
    ),
]


def document(session: Session, case_id: CaseId, name: Name, output: Output = None) -> None:
    """Save a printable document of the case as PDF (application, transit-application,
    reply, transfer-notice)."""
    name = name.lower().removesuffix(".pdf")
    if name not in DOCUMENTS:
        fail(f"no document {name!r}; one of {', '.join(DOCUMENTS)}")
    case_id = case_id.upper()
    target = output or Path(f"{case_id}-{name}.pdf")
    with connected(session) as api:
        pdf = api.document(case_id, name)
    if str(target) == "-":
        sys.stdout.buffer.write(pdf)
        sys.stdout.flush()
        return
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(pdf)
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        fail(f"cannot write {target}: {error.strerror}")
    if session.as_json:
        print_json(
            {
                "case_id": case_id,
                "document": name,
                "file": str(target),
                "bytes": len(pdf),
                "sha256": hashlib.sha256(pdf).hexdigest(),
            }
        )
    else:
        typer.echo(f"{case_id}: {name} saved to {target} ({len(pdf)} bytes)")
