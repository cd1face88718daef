"""`readmit case attach|attachments|attachment`: a case's files over the HTTP API.

`attach CASE FILE [--description]` uploads a PDF, JPEG or PNG (the server judges the type from
the bytes and seals them with the case's key), `attachments CASE` prints the case's list as
JSON, `attachment CASE ID -o FILE` saves one file's bytes exactly as uploaded (the download is
in the disclosure log). Exit 1 when the API refuses (not the caller's case, a wrong type: 415,
too large: 413), 2 for bad input (no such local file, a description too long).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from readmit.cli.case_commands import CaseId
from readmit.cli.case_session import Session, connected
from readmit.cli.common import fail, print_json

LocalFile = Annotated[Path, typer.Argument(metavar="FILE", help="a PDF, JPEG or PNG file")]
AttachmentId = Annotated[str, typer.Argument(metavar="ATTACHMENT_ID", help="as listed")]


def attach(
    session: Session,
    case_id: CaseId,
    file: LocalFile,
    description: Annotated[
        str | None, typer.Option(help="what the file is (sealed with the case's key)")
    ] = None,
) -> None:
    """Add a file (PDF, JPEG or PNG) to the case, sealed with the case's key."""
    try:
        data = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}")
    with connected(session) as api:
        added = api.attach(case_id.upper(), file.name, data, description)
    if session.as_json:
        print_json(added)
        return
    typer.echo(
        f"{case_id.upper()}: attachment {added['attachment_id']} ({added['media_type']}, "
        f"{added['size']} bytes, sha256 {added['sha256']})"
    )


def attachments(session: Session, case_id: CaseId) -> None:
    """The case's attachments, oldest first, as JSON."""
    with connected(session) as api:
        listed = api.attachments(case_id.upper())
    print_json(listed["items"])


def attachment(
    session: Session,
    case_id: CaseId,
    attachment_id: AttachmentId,
    output: Annotated[Path, typer.Option("--output", "-o", help="where to save the file")],
) -> None:
    """Save one attachment's bytes, exactly as uploaded (the download is logged)."""
    with connected(session) as api:
        media_type, data = api.attachment(case_id.upper(), attachment_id.lower())
    try:
        output.write_bytes(data)
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror or error}")
    if session.as_json:
        print_json({"path": str(output), "media_type": media_type, "size": len(data)})
        return
    typer.echo(f"saved {len(data)} bytes ({media_type}) to {output}")
