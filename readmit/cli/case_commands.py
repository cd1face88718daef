"""`readmit case submit|receipt|...|close`: one command per command of the case decider.

Each posts to its endpoint (with `--idempotency-key` when given) and prints the resulting status
and the events appended, or the API's answer as JSON. The case remains the judge: a command it
refuses exits 1 with the domain error's type.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from domain.values import TransferMode, VerificationStatus
from readmit.cli.case_render import result_lines
from readmit.cli.case_session import Session, connected, instant, reasons_required, with_session
from readmit.cli.common import fail, print_json

# CLI name -> (API path, the API's name of the command, as in a case's `next_actions`)
COMMANDS: dict[str, tuple[str, str]] = {
    "submit": ("/submit", "submit"),
    "receipt": ("/receipt", "confirm_receipt"),
    "verification": ("/verification", "record_verification"),
    "extend": ("/extension", "extend_reply"),
    "accept": ("/accept", "accept"),
    "refuse": ("/refuse", "refuse"),
    "transfer": ("/transfer", "schedule_transfer"),
    "transfer-complete": ("/transfer/complete", "complete_transfer"),
    "transfer-extend": ("/transfer/extension", "extend_transfer"),
    "error-claim": ("/error-claim", "claim_error"),
    "withdraw": ("/withdraw", "withdraw"),
    "close": ("/close", "close"),
}
CLI_NAME = {action: name for name, (_, action) in COMMANDS.items()}

CaseId = Annotated[str, typer.Argument(metavar="CASE_ID", help="e.g. PL-UA-2027-000123")]
Reasons = Annotated[
    list[str] | None, typer.Option("--reason", help="a reason (repeatable; at least one)")
]


def register(group: typer.Typer) -> None:
    """Add the decider's commands to the `case` group."""
    commands: dict[str, Callable[..., None]] = {
        "submit": submit,
        "receipt": receipt,
        "verification": verification,
        "extend": extend,
        "accept": accept,
        "refuse": refuse,
        "transfer": transfer,
        "transfer-complete": transfer_complete,
        "transfer-extend": transfer_extend,
        "error-claim": error_claim,
        "withdraw": withdraw,
        "close": close,
    }
    for name, command in commands.items():
        group.command(name, rich_help_panel="Commands of a case")(with_session(command))


def issue(session: Session, name: str, case_id: str, body: dict[str, Any] | None = None) -> None:
    path = COMMANDS[name][0]
    with connected(session) as api:
        result = api.command(case_id.upper(), path, body, session.idempotency_key)
    if session.as_json:
        print_json(result.model_dump(mode="json"))
        return
    for line in result_lines(result):
        typer.echo(line)


def submit(session: Session, case_id: CaseId) -> None:
    """Submit the application to the requested state (requesting side)."""
    issue(session, "submit", case_id)


def receipt(session: Session, case_id: CaseId) -> None:
    """Confirm receipt of the application: the reply limit starts (requested side)."""
    issue(session, "receipt", case_id)


def verification(
    session: Session,
    case_id: CaseId,
    status: Annotated[VerificationStatus, typer.Option(help="outcome of the check")],
    score: Annotated[str, typer.Option(help="match score from 0 to 1, e.g. 0.95")],
    reason: Annotated[list[str] | None, typer.Option("--reason", help="repeatable")] = None,
    interview_needed: Annotated[bool, typer.Option(help="an interview is needed")] = False,
) -> None:
    """Record the outcome of identity verification or an interview (requested side)."""
    try:
        value = Decimal(score)
    except InvalidOperation:
        fail(f"--score {score!r} is not a number")
    exponent = value.as_tuple().exponent
    if not (0 <= value <= 1) or (isinstance(exponent, int) and exponent < -3):
        fail(f"--score {score} must lie between 0 and 1 with at most 3 decimals")
    body = {
        "status": status.value,
        "score": str(value),
        "reasons": [r for r in reason or [] if r.strip()],
        "interview_needed": interview_needed,
    }
    issue(session, "verification", case_id, body)


def extend(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    """Extend the reply limit, once, with reasons (requested side)."""
    issue(session, "extend", case_id, {"reasons": reasons_required("--reason", reason)})


def accept(
    session: Session,
    case_id: CaseId,
    note: Annotated[str | None, typer.Option(help="a short note (up to 200 characters)")] = None,
) -> None:
    """Accept the application (requested side)."""
    issue(session, "accept", case_id, {"note": note} if note else {})


def refuse(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    """Refuse the application, with at least one reason (requested side)."""
    issue(session, "refuse", case_id, {"reasons": reasons_required("--reason", reason)})


def transfer(
    session: Session,
    case_id: CaseId,
    on: Annotated[str, typer.Option(help="date and time with offset, e.g. 2027-02-01T09:00+02:00")],
    bcp: Annotated[str, typer.Option(help="border crossing point")],
    mode: Annotated[TransferMode, typer.Option(help="how the person is transferred")],
    escorts: Annotated[int, typer.Option(min=0, max=20, help="number of escorts")] = 0,
) -> None:
    """Schedule (or reschedule) the transfer (requesting side)."""
    when = instant("--on", on)
    assert when is not None
    body = {"on": when.isoformat(), "bcp": bcp, "mode": mode.value, "escorts": escorts}
    issue(session, "transfer", case_id, body)


def transfer_complete(session: Session, case_id: CaseId) -> None:
    """Record the completed transfer (requesting side)."""
    issue(session, "transfer-complete", case_id)


def transfer_extend(
    session: Session,
    case_id: CaseId,
    days: Annotated[int, typer.Option(min=1, max=365, help="days the obstacle lasts")],
    reason: Reasons = None,
) -> None:
    """Extend the transfer limit for an obstacle (requesting side)."""
    reasons = reasons_required("--reason", reason)
    issue(session, "transfer-extend", case_id, {"days": days, "reasons": reasons})


def error_claim(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    """Claim the person was readmitted in error (requested side)."""
    issue(session, "error-claim", case_id, {"reasons": reasons_required("--reason", reason)})


def withdraw(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    """Withdraw the application, with reasons (requesting side)."""
    issue(session, "withdraw", case_id, {"reasons": reasons_required("--reason", reason)})


def close(session: Session, case_id: CaseId) -> None:
    """Close the case (requesting side)."""
    issue(session, "close", case_id)
