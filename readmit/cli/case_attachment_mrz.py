"""`readmit case attachment-mrz CASE ATTACHMENT_ID`: the MRZ of a passport or identity card
image already in the case's files, read by the server's OCR and checked, printed as the JSON
`readmit mrz read` prints (the API's `POST /cases/{id}/attachments/{attachment_id}/mrz`; the
read is in the disclosure log).

Exit codes as `readmit mrz read`'s: 0 when every check passed, 1 when a zone was read but a
check failed (and when the API refuses: not the caller's case, an auditor), 2 with a one-line
reason when the attachment is not an image (a PDF) or has no readable MRZ.
"""

from __future__ import annotations

import typer

from readmit.api_client import ApiError
from readmit.cli.case_attachments import AttachmentId
from readmit.cli.case_commands import CaseId
from readmit.cli.case_session import Session, connected
from readmit.cli.common import EXIT_BAD_INPUT, EXIT_OK, EXIT_REFUSED, fail, print_json


def attachment_mrz(session: Session, case_id: CaseId, attachment_id: AttachmentId) -> None:
    """Read the MRZ of an image attachment (passport or identity card) and check its digits."""
    with connected(session) as api:
        try:
            answer = api.attachment_mrz(case_id.upper(), attachment_id.lower())
        except ApiError as error:
            if error.status != 415:  # 422 (no readable MRZ) exits 2 as every bad input does
                raise
            fail(f"{error.title}: {error.detail}" if error.detail else error.title, EXIT_BAD_INPUT)
    print_json(answer)
    raise typer.Exit(EXIT_OK if answer["valid"] else EXIT_REFUSED)
