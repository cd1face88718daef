"""`readmit case submit|receipt|...|close`: one command per command of the catalogue.

Names, help and API paths come from the command catalogue (api/commands.py); the functions here
only turn each command's options into its request body. Each posts to its endpoint (with
`--idempotency-key` when given) and prints the resulting status and the events appended, or the
API's answer as JSON. The case remains the judge: a command it refuses exits 1 with the domain
error's type.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

import typer

from api.commands import (
    ASSIGNMENT_COMMANDS,
    CASE_COMMANDS,
    ESCALATION_COMMANDS,
    REACHABLE,
    Presentation,
)
from domain.values import Side, TransferMode, VerificationStatus
from readmit.cli.case_render import result_lines
from readmit.cli.case_session import Session, connected, instant, reasons_required, with_session
from readmit.cli.common import fail, print_json

CaseId = Annotated[str, typer.Argument(metavar="CASE_ID", help="e.g. PL-UA-2027-000123")]
Reasons = Annotated[
    list[str] | None, typer.Option("--reason", help="a reason (repeatable; at least one)")
]
Options = TypeVar("Options", bound=Callable[..., None])
BY_COMMAND: dict[str, Callable[..., None]] = {}  # catalogue name -> the function of its options


def options_of(name: str) -> Callable[[Options], Options]:
    """Mark a function as the options of the catalogue's command `name`."""

    def mark(function: Options) -> Options:
        BY_COMMAND[REACHABLE[name].name] = function
        return function

    return mark


def register(group: typer.Typer) -> None:
    for command in (*CASE_COMMANDS, *ASSIGNMENT_COMMANDS, *ESCALATION_COMMANDS):
        if command.cli is not None:
            group.command(
                command.cli,
                help=f"{command.help} ({_side_words(command)}).",
                rich_help_panel="Commands of a case",
            )(with_session(BY_COMMAND[command.name]))


def _side_words(command: Presentation) -> str:
    if command.side is Side.EITHER:
        return "your own side"
    return f"{command.side.value} side"


def cli_name(action: str) -> str:
    """How the CLI names a command of the API (`confirm_receipt` -> `receipt`)."""
    found = REACHABLE.get(action)
    return found.cli if found is not None and found.cli else action


def issue(session: Session, name: str, case_id: str, body: dict[str, Any] | None = None) -> None:
    with connected(session) as api:
        result = api.command(case_id.upper(), REACHABLE[name].path, body, session.idempotency_key)
    if session.as_json:
        print_json(result.model_dump(mode="json"))
        return
    for line in result_lines(result):
        typer.echo(line)


@options_of("add_evidence")
def evidence(
    session: Session,
    case_id: CaseId,
    kind: Annotated[str, typer.Option(help="e.g. passport, identity_card, travel_ticket")],
    number: Annotated[str | None, typer.Option(help="the document's number")] = None,
    issued_by: Annotated[str | None, typer.Option(help="issuing authority or state")] = None,
    issued_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    valid_until: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    mrz: Annotated[list[str] | None, typer.Option("--mrz", help="an MRZ line (repeatable)")] = None,
    description: Annotated[str | None, typer.Option(help="what the item shows")] = None,
) -> None:
    """One evidence item per call; the API seals its number, MRZ and description."""
    item: dict[str, Any] = {"kind": kind.strip().lower()}
    given = {"number": number, "issued_by": issued_by, "description": description}
    item |= {k: v.strip() for k, v in given.items() if v is not None and v.strip()}
    for option, text in (("--issued-on", issued_on), ("--valid-until", valid_until)):
        if text is not None:
            item[option[2:].replace("-", "_")] = calendar_date(option, text)
    if mrz:
        item["mrz"] = [line.strip() for line in mrz if line.strip()]
    issue(session, "add_evidence", case_id, {"items": [item]})


def calendar_date(option: str, text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        fail(f"{option} {text!r} is not a date, e.g. 2031-05-17")


@options_of("submit")
def submit(session: Session, case_id: CaseId) -> None:
    issue(session, "submit", case_id)


@options_of("confirm_receipt")
def receipt(session: Session, case_id: CaseId) -> None:
    issue(session, "confirm_receipt", case_id)


@options_of("record_verification")
def verification(
    session: Session,
    case_id: CaseId,
    status: Annotated[VerificationStatus, typer.Option(help="outcome of the check")],
    score: Annotated[str, typer.Option(help="match score from 0 to 1, e.g. 0.95")],
    reason: Annotated[list[str] | None, typer.Option("--reason", help="repeatable")] = None,
    interview_needed: Annotated[bool, typer.Option(help="an interview is needed")] = False,
) -> None:
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
    issue(session, "record_verification", case_id, body)


@options_of("extend_reply")
def extend(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    issue(session, "extend_reply", case_id, {"reasons": reasons_required("--reason", reason)})


@options_of("accept")
def accept(
    session: Session,
    case_id: CaseId,
    note: Annotated[str | None, typer.Option(help="a short note (up to 200 characters)")] = None,
) -> None:
    issue(session, "accept", case_id, {"note": note} if note else {})


@options_of("refuse")
def refuse(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    issue(session, "refuse", case_id, {"reasons": reasons_required("--reason", reason)})


@options_of("schedule_transfer")
def transfer(
    session: Session,
    case_id: CaseId,
    on: Annotated[str, typer.Option(help="date and time with offset, e.g. 2027-02-01T09:00+02:00")],
    bcp: Annotated[str, typer.Option(help="border crossing point")],
    mode: Annotated[TransferMode, typer.Option(help="how the person is transferred")],
    escorts: Annotated[int, typer.Option(min=0, max=20, help="number of escorts")] = 0,
) -> None:
    when = instant("--on", on)
    assert when is not None
    body = {"on": when.isoformat(), "bcp": bcp, "mode": mode.value, "escorts": escorts}
    issue(session, "schedule_transfer", case_id, body)


@options_of("confirm_transfer")
def transfer_confirm(
    session: Session,
    case_id: CaseId,
    note: Annotated[str | None, typer.Option(help="a short note (up to 200 characters)")] = None,
) -> None:
    issue(session, "confirm_transfer", case_id, {"note": note} if note else {})


@options_of("object_to_transfer")
def transfer_object(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    reasons = reasons_required("--reason", reason)
    issue(session, "object_to_transfer", case_id, {"reasons": reasons})


@options_of("complete_transfer")
def transfer_complete(session: Session, case_id: CaseId) -> None:
    issue(session, "complete_transfer", case_id)


@options_of("extend_transfer")
def transfer_extend(
    session: Session,
    case_id: CaseId,
    days: Annotated[int, typer.Option(min=1, max=365, help="days the obstacle lasts")],
    reason: Reasons = None,
) -> None:
    reasons = reasons_required("--reason", reason)
    issue(session, "extend_transfer", case_id, {"days": days, "reasons": reasons})


@options_of("claim_error")
def error_claim(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    issue(session, "claim_error", case_id, {"reasons": reasons_required("--reason", reason)})


@options_of("accept_error_claim")
def error_accept(
    session: Session,
    case_id: CaseId,
    note: Annotated[str | None, typer.Option(help="a short note (up to 200 characters)")] = None,
) -> None:
    issue(session, "accept_error_claim", case_id, {"note": note} if note else {})


@options_of("dispute_error_claim")
def error_dispute(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    reasons = reasons_required("--reason", reason)
    issue(session, "dispute_error_claim", case_id, {"reasons": reasons})


@options_of("schedule_return")
def return_(
    session: Session,
    case_id: CaseId,
    on: Annotated[str, typer.Option(help="date and time with offset, e.g. 2027-06-01T09:00+03:00")],
    bcp: Annotated[str, typer.Option(help="border crossing point")],
    mode: Annotated[TransferMode, typer.Option(help="how the person is handed back")],
    escorts: Annotated[int, typer.Option(min=0, max=20, help="number of escorts")] = 0,
) -> None:
    when = instant("--on", on)
    assert when is not None
    body = {"on": when.isoformat(), "bcp": bcp, "mode": mode.value, "escorts": escorts}
    issue(session, "schedule_return", case_id, body)


@options_of("complete_return")
def return_complete(session: Session, case_id: CaseId) -> None:
    issue(session, "complete_return", case_id)


Corrected = Annotated[str | None, typer.Option(help="the corrected value ('' clears it)")]


@options_of("amend_person")
def amend_person(
    session: Session,
    case_id: CaseId,
    surname: Corrected = None,
    given_names: Corrected = None,
    birth_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    birth_place: Corrected = None,
    sex: Annotated[str | None, typer.Option(help="F, M or X ('' clears it)")] = None,
    nationality: Annotated[str | None, typer.Option(help="ISO code, e.g. UA")] = None,
    personal_number: Corrected = None,
    other_name: Annotated[
        list[str] | None,
        typer.Option("--other-names", help="another name (repeatable; replaces the list)"),
    ] = None,
    address: Corrected = None,
) -> None:
    """The fields given replace the person's current ones (read from the case first); the rest
    stay as they are."""
    given: dict[str, Any] = {
        name: value
        for name, value in (
            ("surname", surname),
            ("given_names", given_names),
            ("birth_date", birth_date),
            ("birth_place", birth_place),
            ("sex", sex),
            ("nationality", nationality),
            ("personal_number", personal_number),
            ("address", address),
        )
        if value is not None
    }
    if other_name is not None:
        given["other_names"] = [n for n in other_name if n.strip()]
    if not given:
        fail("give at least one field to correct, e.g. --birth-date 1990-05-18")
    with connected(session) as api:
        current = api.case(case_id.upper()).get("person") or {}
        if current.get("erased"):
            fail(f"the personal data of {case_id.upper()} was erased")
        merged = {k: v for k, v in {**current, **given}.items() if v not in (None, "", [])}
        result = api.command(
            case_id.upper(),
            REACHABLE["amend_person"].path,
            {"person": merged},
            session.idempotency_key,
        )
    if session.as_json:
        print_json(result.model_dump(mode="json"))
        return
    for line in result_lines(result):
        typer.echo(line)


@options_of("withdraw")
def withdraw(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    issue(session, "withdraw", case_id, {"reasons": reasons_required("--reason", reason)})


@options_of("close")
def close(session: Session, case_id: CaseId) -> None:
    issue(session, "close", case_id)


# --- assignment (domain.assignment) ---------------------------------------------------------


@options_of("claim_case")
def claim(session: Session, case_id: CaseId) -> None:
    issue(session, "claim_case", case_id)


@options_of("release_case")
def release(session: Session, case_id: CaseId) -> None:
    issue(session, "release_case", case_id)


@options_of("assign_case")
def assign(
    session: Session,
    case_id: CaseId,
    officer: Annotated[str, typer.Option("--officer", help="the officer's user id")],
) -> None:
    if not officer.strip():
        fail("--officer: give the officer's user id")
    issue(session, "assign_case", case_id, {"officer": officer.strip()})


# --- escalations (domain.escalations) -------------------------------------------------------


@options_of("acknowledge_escalation")
def acknowledge(session: Session, case_id: CaseId) -> None:
    issue(session, "acknowledge_escalation", case_id)


# --- transit cases (docs/transit.md) --------------------------------------------------------


@options_of("consent_transit")
def transit_consent(
    session: Session,
    case_id: CaseId,
    note: Annotated[str | None, typer.Option(help="a short note (up to 200 characters)")] = None,
) -> None:
    issue(session, "consent_transit", case_id, {"note": note} if note else {})


@options_of("refuse_transit")
def transit_refuse(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    issue(session, "refuse_transit", case_id, {"reasons": reasons_required("--reason", reason)})


@options_of("schedule_transit")
def transit_schedule(
    session: Session,
    case_id: CaseId,
    on: Annotated[str, typer.Option(help="date and time with offset, e.g. 2027-02-01T09:00+02:00")],
    entry_point: Annotated[str, typer.Option(help="where the person enters the requested state")],
    exit_point: Annotated[str, typer.Option(help="where the person leaves it")],
    escorts: Annotated[int, typer.Option(min=0, max=20, help="number of escorts")] = 0,
    flight_number: Annotated[str | None, typer.Option(help="flight number, e.g. 'OS 655'")] = None,
) -> None:
    when = instant("--on", on)
    assert when is not None
    body: dict[str, Any] = {
        "on": when.isoformat(),
        "entry_point": entry_point,
        "exit_point": exit_point,
        "escorts": escorts,
    }
    if flight_number:
        body["flight"] = {"number": flight_number}
    issue(session, "schedule_transit", case_id, body)


@options_of("complete_transit")
def transit_complete(session: Session, case_id: CaseId) -> None:
    issue(session, "complete_transit", case_id)


@options_of("report_transit_failure")
def transit_failure(
    session: Session,
    case_id: CaseId,
    reason: Reasons = None,
    entry_refused: Annotated[
        bool, typer.Option(help="the destination refused the person entry")
    ] = False,
) -> None:
    reasons = reasons_required("--reason", reason)
    body = {"reasons": reasons, "entry_refused": entry_refused}
    issue(session, "report_transit_failure", case_id, body)


@options_of("take_back")
def take_back(
    session: Session,
    case_id: CaseId,
    note: Annotated[str | None, typer.Option(help="a short note (up to 200 characters)")] = None,
) -> None:
    issue(session, "take_back", case_id, {"note": note} if note else {})
