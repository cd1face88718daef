"""`readmit case ...`: the operator's command line for cases, over the HTTP API only.

`open` and `list` here, the reads (`show`, `events`, `state`, `verify`) too; the decider's
commands live in `case_commands`. Every command prints text or, with `--json`, the API's answer,
and exits 0, 1 (refused) or 2 (bad input, API unreachable) with a one-line reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from api.commands import OPEN_CASE
from domain.agreements import Category
from domain.values import CaseKind, PlaceKind, Procedure
from readmit.cli import (
    case_attachment_mrz,
    case_attachments,
    case_commands,
    case_documents,
    case_messages,
    reply_approval,
)
from readmit.cli.case_render import (
    case_lines,
    case_table,
    console,
    deadline_table,
    history_table,
)
from readmit.cli.case_session import Session, connected, group_options, instant, with_session
from readmit.cli.common import EXIT_REFUSED, fail, print_json

CaseId = case_commands.CaseId
Opt = typer.Option


def register(app: typer.Typer) -> None:
    """Add the `case` group to the `readmit` app."""
    group = typer.Typer(no_args_is_help=True, callback=group_options)
    assert OPEN_CASE.cli is not None
    group.command(OPEN_CASE.cli, help=f"{OPEN_CASE.help} and print its id.")(
        with_session(open_case)
    )
    commands: dict[str, Callable[..., None]] = {
        "list": list_cases,
        "show": show,
        "events": events,
        "state": state,
        "verify": verify,
        "exchange": exchange,
        "document": case_documents.document,
        "attach": case_attachments.attach,
        "attachments": case_attachments.attachments,
        "attachment": case_attachments.attachment,
        "attachment-mrz": case_attachment_mrz.attachment_mrz,
    }
    for name, command in commands.items():
        group.command(name)(with_session(command))
    case_commands.register(group)
    reply_approval.register(group)
    case_messages.register(group)
    app.add_typer(group, name="case")


def open_case(
    session: Session,
    agreement: Annotated[str | None, Opt(help="agreement id, e.g. EU-UA")] = None,
    protocol: Annotated[str | None, Opt(help="Member State whose protocol applies")] = None,
    requested: Annotated[str | None, Opt(help="the state asked to readmit, e.g. UA")] = None,
    category: Annotated[Category | None, Opt(help="the person's category")] = None,
    procedure: Annotated[Procedure | None, Opt(help="default: standard")] = None,
    surname: Annotated[str | None, Opt()] = None,
    given_names: Annotated[str | None, Opt()] = None,
    birth_date: Annotated[str | None, Opt(help="YYYY-MM-DD")] = None,
    nationality: Annotated[str | None, Opt(help="ISO code, e.g. UA")] = None,
    evidence: Annotated[
        list[str] | None, Opt(help="KIND:NUMBER, e.g. passport:FA123456 (repeatable)")
    ] = None,
    knowledge_at: Annotated[str | None, Opt(help="when the authorities learnt of it")] = None,
    apprehended_at: Annotated[str | None, Opt(help="ISO instant with offset")] = None,
    place: Annotated[
        str | None, Opt(help="land_border:KM | international_airport:NAME | sea_port:NAME")
    ] = None,
    kind: Annotated[CaseKind | None, Opt(help="default: readmission")] = None,
    destination: Annotated[str | None, Opt(help="transit: the destination state, e.g. GE")] = None,
    assurance: Annotated[
        str | None, Opt(help="transit: the destination's assurance, REFERENCE:YYYY-MM-DD")
    ] = None,
    planned_at: Annotated[str | None, Opt(help="transit: its planned instant, with offset")] = None,
    entry_point: Annotated[str | None, Opt(help="transit: where the person enters")] = None,
    exit_point: Annotated[str | None, Opt(help="transit: where the person leaves")] = None,
    escorts: Annotated[int | None, Opt(min=0, max=20, help="transit: number of escorts")] = None,
    flight: Annotated[str | None, Opt(help="transit: flight number, e.g. 'OS 655'")] = None,
    from_file: Annotated[
        Path | None, Opt(help="a JSON body of POST /cases; options given here override it")
    ] = None,
) -> None:
    body = _file_body(from_file) if from_file else {}
    if kind:
        body["kind"] = kind.value
    planned = instant("--planned-at", planned_at)
    transit = {
        "destination": destination.upper() if destination else None,
        "assurance": _assurance(assurance) if assurance else None,
        "planned_at": planned.isoformat() if planned else None,
        "entry_point": entry_point,
        "exit_point": exit_point,
        "escorts": escorts,
        "flight": {"number": flight} if flight else None,
    }
    if any(v is not None for v in transit.values()):
        body["transit"] = {**(body.get("transit") or {}), **_given(transit)}
    person = dict(body.get("person") or {})
    options = {"agreement": agreement, "requested": requested, "protocol": protocol}
    body.update({k: v.upper() for k, v in options.items() if v})
    body.update(
        {k: v.value for k, v in {"category": category, "procedure": procedure}.items() if v}
    )
    if birth_date:
        try:
            person["birth_date"] = date.fromisoformat(birth_date).isoformat()
        except ValueError:
            fail(f"--birth-date {birth_date!r} is not a date YYYY-MM-DD")
    fields = {"surname": surname, "given_names": given_names, "nationality": nationality}
    person.update({k: v for k, v in fields.items() if v})
    body["person"] = person
    if evidence:
        body["evidence"] = [_evidence(text) for text in evidence]
    for key, text in (("knowledge_at", knowledge_at), ("apprehended_at", apprehended_at)):
        if (value := instant(f"--{key.replace('_', '-')}", text)) is not None:
            body[key] = value.isoformat()
    if place:
        body["apprehension_place"] = _place(place)
    missing = [f"--{k}" for k in ("agreement", "requested", "category") if not body.get(k)]
    if body.get("kind") == CaseKind.TRANSIT:
        request = body.get("transit") or {}
        needed = ("destination", "assurance", "planned_at", "entry_point", "exit_point")
        missing += [f"--{k.replace('_', '-')}" for k in needed if not request.get(k)]
    missing += [
        f"--{k.replace('_', '-')}"
        for k in ("surname", "given_names", "birth_date")
        if not person.get(k)
    ]
    if missing:
        fail(f"missing {', '.join(missing)} (give them as options or in --from-file)")
    with connected(session) as api:
        result = api.open_case(body, session.idempotency_key)
    if session.as_json:
        print_json(result.model_dump(mode="json"))
    else:
        typer.echo(result.case_id)
        for earlier in result.earlier_cases:  # the person search's warning, on stderr
            typer.echo(
                f"warning: this person already has case {earlier['case_id']}"
                f" ({earlier['status']}; same {', '.join(earlier['reasons'])})",
                err=True,
            )


def _file_body(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    except ValueError as error:
        fail(f"{path} is not JSON: {error}")
    if not isinstance(loaded, dict):
        fail(f"{path} must hold a JSON object (the body of POST /cases)")
    return loaded


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _assurance(text: str) -> dict[str, str]:
    reference, _, day = text.rpartition(":")
    try:
        given_on = date.fromisoformat(day.strip())
    except ValueError:
        fail(f"--assurance {text!r} is not REFERENCE:YYYY-MM-DD")
    if not reference.strip():
        fail(f"--assurance {text!r} names no reference")
    return {"reference": reference.strip(), "given_on": given_on.isoformat()}


def _evidence(text: str) -> dict[str, str]:
    kind, _, number = text.partition(":")
    kind = kind.strip().lower()
    if not kind or not kind.replace("_", "").isalnum() or not kind[0].isalpha():
        fail(f"--evidence {text!r} is not KIND:NUMBER, e.g. passport:FA123456")
    return {"kind": kind, "number": number.strip()} if number.strip() else {"kind": kind}


def _place(text: str) -> dict[str, str]:
    kind, _, value = text.partition(":")
    kinds = [k.value for k in PlaceKind]
    if kind not in kinds:
        fail(f"--place {text!r}: the kind is one of {', '.join(kinds)}")
    if not value:
        return {"kind": kind}
    if kind == PlaceKind.LAND_BORDER:
        if not value.replace(".", "", 1).isdigit():
            fail(f"--place {text!r}: after land_border: give the distance from it in km")
        return {"kind": kind, "km_from_border": value}
    return {"kind": kind, "name": value}


def list_cases(
    session: Session,
    side: Annotated[str | None, Opt(help="requesting | requested")] = None,
    status: Annotated[list[str] | None, Opt(help="status to show (repeatable)")] = None,
    agreement: Annotated[str | None, Opt(help="agreement id, e.g. EU-UA")] = None,
    counterpart: Annotated[str | None, Opt(help="the other state, e.g. UA")] = None,
    overdue: Annotated[bool | None, Opt("--overdue/--no-overdue", show_default=False)] = None,
    due_before: Annotated[str | None, Opt(help="next deadline before this instant")] = None,
    prefix: Annotated[str | None, Opt(help="case id prefix, e.g. PL-UA-2027")] = None,
    kind: Annotated[CaseKind | None, Opt(help="readmission | transit")] = None,
    assigned: Annotated[
        str | None, Opt(help="me | unassigned | an officer's user id (supervisors)")
    ] = None,
    limit: Annotated[int, Opt(min=1, max=200, help="cases per page")] = 50,
    all_pages: Annotated[bool, Opt("--all", help="follow every page")] = False,
    awaiting_approval: Annotated[
        bool,
        Opt("--awaiting-approval", help="replies drafted on your side awaiting approval"),
    ] = False,
) -> None:
    """List your cases: overdue first, then by next deadline."""
    if side not in (None, "requesting", "requested"):
        fail(f"--side {side!r}: requesting or requested")
    due = instant("--due-before", due_before)
    filters = {
        "side": side,
        "status": [s.lower() for s in status] if status else None,
        "agreement": agreement.upper() if agreement else None,
        "counterpart": counterpart.upper() if counterpart else None,
        "overdue": None if overdue is None else str(overdue).lower(),
        "due_before": due.isoformat() if due else None,
        "q": prefix.upper() if prefix else None,
        "kind": kind.value if kind else None,
        "assigned": assigned.strip() if assigned else None,
        "awaiting_approval": "true" if awaiting_approval else None,
        "limit": limit,
    }
    items: list[dict[str, Any]] = []
    with connected(session) as api:
        if not all_pages:
            items = api.list_cases(filters).items
        else:
            err = console(err=True)
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                console=err,
                transient=True,
                disable=not err.is_terminal,
            ) as progress:
                task = progress.add_task("fetching cases", total=None)
                for page in api.pages(filters):
                    items += page.items
                    progress.update(task, description=f"fetched {len(items)} cases")
    if session.as_json:
        print_json(items)
        return
    if not items:
        typer.echo("no cases")
        return
    console().print(case_table(items, datetime.now(UTC)))


def show(session: Session, case_id: CaseId) -> None:
    """A case in full: parties, person, evidence, verification, deadlines, what you may do."""
    with connected(session) as api:
        case = api.case(case_id.upper())
    if session.as_json:
        print_json(case)
        return
    _print_case(case)


def _print_case(case: dict[str, Any]) -> None:
    actions = [case_commands.cli_name(a) for a in case.get("next_actions") or []]
    out = console()
    for line in case_lines(case, actions):
        out.print(line)
    if case.get("deadlines"):
        out.print("deadlines:")
        out.print(deadline_table(case["deadlines"], datetime.now(UTC)))


def events(session: Session, case_id: CaseId) -> None:
    """The case's history: every event with its actor and hash."""
    with connected(session) as api:
        history = api.events(case_id.upper())
    if session.as_json:
        print_json(history)
        return
    console().print(history_table(history))


def state(
    session: Session,
    case_id: CaseId,
    as_of: Annotated[str | None, Opt(help="the state at this instant (with offset)")] = None,
    version: Annotated[int | None, Opt(min=0, help="the state after this many events")] = None,
) -> None:
    """The case as it stood at an instant or a version (the auditor's replay)."""
    if as_of is not None and version is not None:
        fail("give --as-of or --version, not both")
    with connected(session) as api:
        answer = api.state(case_id.upper(), as_of=instant("--as-of", as_of), version=version)
    if session.as_json:
        print_json(answer)
        return
    if answer.get("state") is None:
        typer.echo(f"{case_id.upper()}: nothing recorded by then (version {answer['version']})")
        return
    _print_case(answer["state"])


def exchange(session: Session, case_id: CaseId) -> None:
    """A shared case's messages with the other node (on a federated node): what was sent and
    received, each with its receipt, what is on its way and what was refused."""
    with connected(session) as api:
        record = api.exchange(case_id.upper())
    if session.as_json:
        print_json(record)
        return
    out = console()
    for line in exchange_lines(record):
        out.print(line, highlight=False)


def exchange_lines(record: dict[str, Any]) -> list[str]:
    """The record as lines: one per message, then what is on its way and what was refused."""
    peer = record.get("peer") or "the other node"
    lines = [f"{record['case_id']}: messages with {peer}"]
    for m in record["messages"]:
        receipt = m.get("receipt")
        if receipt is None:
            answer = "awaiting receipt"
        elif receipt["outcome"] == "applied":
            answer = f"applied {receipt['received_at']}"
        else:
            answer = f"refused ({receipt['code']}) {receipt['received_at']}"
        lines.append(f"  {m['direction']:<8} no. {m['seq']:<3} {m['command']:<20} {answer}")
    lines += [
        f"  on its way: no. {m['seq']} {m['command']}, sent {m['sent_at']}"
        for m in record["on_its_way"]
    ]
    lines += [f"  refused: {r['command']} ({r['code']})" for r in record.get("refused", [])]
    return lines


def verify(session: Session, case_id: CaseId) -> None:
    """Recompute the case's hash chain; exit 1 when it is broken."""
    with connected(session) as api:
        check = api.verify(case_id.upper())
    if session.as_json:
        print_json(check.model_dump(mode="json"))
    elif check.ok:
        typer.echo(f"{check.case_id}: chain intact, {check.checked} events checked")
    else:
        typer.echo(
            f"{check.case_id}: chain BROKEN at version {check.first_broken_version}: "
            f"{check.reason or 'hash mismatch'}"
        )
    if not check.ok:
        raise typer.Exit(EXIT_REFUSED)
