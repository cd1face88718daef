"""`readmit deadlines` and `readmit agreements list|show|check`: the catalogue from a terminal.

Each command loads the catalogue (shipped files, `READMIT_AGREEMENTS_DIR`, `--agreement-file`) and
turns every error into a one-line reason and exit code 2, never a traceback.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.agreements.catalogue import Catalogue, CatalogueError, NotInCatalogue, load_catalogue
from adapters.settings import get_settings
from domain.agreements import LIMIT_NAMES, Agreement, AgreementTerms, Limit
from domain.calendars import UnknownState
from domain.deadlines import DeadlineError, deadline_for
from domain.terms import EU, TermsError, suspension_in_effect
from readmit.cli.common import fail, parse_instant, print_json

AgreementFiles = Annotated[
    list[Path] | None,
    typer.Option("--agreement-file", help="extra agreement or protocol TOML file (repeatable)"),
]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
USABLE_ERRORS = (CatalogueError, NotInCatalogue, TermsError, DeadlineError, UnknownState)


def register(app: typer.Typer) -> None:
    """Add `deadlines` and the `agreements` group to the `readmit` app."""
    app.command("deadlines")(deadlines)
    group = typer.Typer(
        help="The agreement catalogue: list, show, check files.", no_args_is_help=True
    )
    group.command("list")(list_agreements)
    group.command("show")(show_agreement)
    group.command("check")(check_files)
    app.add_typer(group, name="agreements")


def _catalogue(extra_files: list[Path] | None) -> Catalogue:
    try:
        return load_catalogue(get_settings().agreements_dir, extra_files or ())
    except CatalogueError as exc:
        fail(exc.one_line())


def deadlines(
    agreement: Annotated[str, typer.Option(help="agreement id, e.g. EU-UA")],
    limit: Annotated[str, typer.Option(help=f"one of: {', '.join(LIMIT_NAMES)}")],
    requesting: Annotated[str, typer.Option(help="ISO code of the requesting state")],
    requested: Annotated[str, typer.Option(help="ISO code of the requested state")],
    from_: Annotated[str, typer.Option("--from", help="trigger instant with offset")],
    protocol: Annotated[
        str | None, typer.Option(help="Member State whose protocol applies")
    ] = None,
    agreement_file: AgreementFiles = None,
    extended: Annotated[bool, typer.Option(help="use the limit's extension (up_to)")] = False,
    extra_days: Annotated[int, typer.Option(help="obstacle extension in days")] = 0,
) -> None:
    """Compute one deadline exactly and print it as JSON."""
    if limit not in LIMIT_NAMES:
        fail(f"unknown limit {limit!r}; known: {', '.join(LIMIT_NAMES)}")
    trigger = parse_instant(from_, "--from")
    catalogue = _catalogue(agreement_file)
    try:
        terms = catalogue.terms(
            agreement.upper(),
            requesting.upper(),
            requested.upper(),
            protocol.upper() if protocol else None,
        )
        deadline = deadline_for(terms, limit, trigger, extended=extended, extra_days=extra_days)
    except USABLE_ERRORS as exc:
        fail(str(exc))
    print_json(deadline.model_dump(mode="json"))
    if not deadline.verified:
        typer.echo(
            f"readmit: note: {limit} of {agreement} is not verified: {deadline.source}", err=True
        )
    suspended = suspension_in_effect(terms, trigger.date())
    if suspended is not None:
        typer.echo(
            f"readmit: note: {agreement} suspended by {suspended.by} from {suspended.from_}",
            err=True,
        )


def list_agreements(agreement_file: AgreementFiles = None, as_json: AsJson = False) -> None:
    """List the agreements of the catalogue with their protocols and unverified limits."""
    catalogue = _catalogue(agreement_file)
    rows = [_summary(catalogue, a) for a in catalogue.list_agreements()]
    if as_json:
        print_json(rows)
        return
    table = [("ID", "PARTIES", "IN FORCE", "STATUS", "PROTOCOLS", "UNVERIFIED", "FILE")]
    for row in rows:
        unverified = f"{len(row['unverified_limits'])}/{row['limit_count']} limits"
        protocols = ",".join(row["protocols"]) or "-"
        parties = "-".join(row["parties"])
        table.append(
            (row["id"], parties, row["in_force"], row["status"], protocols, unverified, row["file"])
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


def _summary(catalogue: Catalogue, agreement: Agreement) -> dict[str, Any]:
    today = date.today()
    current = [
        s for s in agreement.suspensions if s.from_ <= today and (not s.until or today < s.until)
    ]
    status = f"suspended by {current[-1].by} since {current[-1].from_}" if current else "in force"
    return {
        "id": agreement.id,
        "title": agreement.title,
        "parties": list(agreement.parties),
        "excluded_states": list(agreement.excluded_states),
        "in_force": agreement.in_force.isoformat(),
        "tcn_obligations_from": agreement.tcn_obligations_from,
        "status": status,
        "protocols": [p.state for p in catalogue.protocols_of(agreement.id)],
        "limit_count": len(agreement.limits),
        "unverified_limits": sorted(n for n, lim in agreement.limits.items() if not lim.verified),
        "file": catalogue.origins.get(agreement.id, ""),
    }


def show_agreement(
    agreement_id: Annotated[str, typer.Argument(metavar="ID", help="agreement id, e.g. EU-UA")],
    protocol: Annotated[
        str | None, typer.Option(help="overlay this Member State's protocol")
    ] = None,
    agreement_file: AgreementFiles = None,
    as_json: AsJson = False,
) -> None:
    """Show every parameter of an agreement (with a protocol merged in), its source and flag."""
    catalogue = _catalogue(agreement_file)
    try:
        agreement_id = agreement_id.upper()
        agreement = catalogue.agreement(agreement_id)
        shown: Agreement | AgreementTerms = agreement
        if protocol is not None:
            state = protocol.upper()
            other = next((p for p in agreement.parties if p not in (EU, state)), state)
            shown = catalogue.terms(agreement_id, state, other, protocol_state=state)
    except USABLE_ERRORS as exc:
        fail(str(exc))
    files = [catalogue.origins.get(agreement_id, "")]
    if isinstance(shown, AgreementTerms) and shown.protocol_state:
        files.append(catalogue.origins.get((agreement_id, shown.protocol_state), ""))
    data = shown.model_dump(mode="json", by_alias=True)
    if as_json:
        print_json({"files": files, **data})
        return
    for line in _parameter_lines(agreement, shown, files):
        typer.echo(line)


def _parameter_lines(
    agreement: Agreement, shown: Agreement | AgreementTerms, files: list[str]
) -> list[str]:
    """Every parameter on its own line, each sourced one followed by its source and flag."""
    protocol_state = shown.protocol_state if isinstance(shown, AgreementTerms) else None
    suffix = f" with the {protocol_state} protocol" if protocol_state else ""
    suspensions = [
        f"from {s.from_} by {s.by}" + (f" until {s.until}" if s.until else "") + f" ({s.reason})"
        for s in shown.suspensions
    ]
    lines = [
        f"{agreement.id}{suffix}: {agreement.title}",
        f"  files: {' + '.join(files)}",
        f"  {_flag(agreement.source, agreement.verified)}",
        f"parties: {' and '.join(agreement.parties)}"
        + (
            f" (excluded: {', '.join(agreement.excluded_states)})"
            if agreement.excluded_states
            else ""
        ),
        f"in force: {shown.in_force}; TCN and stateless obligations from: "
        f"{shown.tcn_obligations_from or '-'}",
        f"suspensions: {'; '.join(suspensions) or 'none'}",
        f"time zones: {_plain(dict(shown.time_zones)) or 'built-in'}",
        "limits:",
    ]
    for name, lim in shown.limits.items():
        lines += [f"  {name}: {_describe(lim)}", f"    {_flag(lim.source, lim.verified)}"]
    sections = {"border_region": shown.border_region, "transfer": shown.transfer}
    for name, section in {**sections, "retention": shown.retention}.items():
        values = section.model_dump(mode="json", exclude={"source", "verified"})
        lines += [f"{name}: {_plain(values)}", f"  {_flag(section.source, section.verified)}"]
    lines += ["evidence:", f"  {_flag(shown.evidence.source, shown.evidence.verified)}"]
    for grade, items in shown.evidence.model_dump(exclude={"source", "verified"}).items():
        if items is None:  # stateless persons: the third-country nationals' annex
            stateless = grade.removesuffix("_stateless") + "_tcn"
            lines.append(f"  {grade}: as {stateless}")
            continue
        lines.append(f"  {grade}: {', '.join(items) or '-'}")
    return lines


def _describe(lim: Limit) -> str:
    ext = lim.extension
    if ext is None:
        extension = "no extension"
    elif ext.up_to is not None:
        extension = f"extendable up to {ext.up_to} {(ext.unit or lim.unit).value}"
    else:
        extension = "extendable by the obstacle's duration" + (
            f" (at most {ext.max_days} days)" if ext.max_days else ""
        )
    roll = ", roll forward" if lim.roll_forward else ""
    binds = ", ".join(c.value for c in lim.applies_to) if lim.applies_to else "every category"
    return (
        f"{lim.amount} {lim.unit.value} from {lim.from_.value}, calendar {lim.calendar}{roll}, "
        f"{extension}, on expiry {lim.on_expiry.value}, binds {binds}"
    )


def _flag(source: str, verified: bool) -> str:
    return f"source: {source or '-'} [{'verified' if verified else 'UNVERIFIED'}]"


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_plain(v)}" for k, v in value.items() if v not in (None, [], ""))
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return str(value)


def check_files(
    paths: Annotated[
        list[Path], typer.Argument(metavar="FILE...", help="agreement/protocol files")
    ],
) -> None:
    """Validate agreement and protocol files against the catalogue; print every problem."""
    try:
        catalogue = load_catalogue(get_settings().agreements_dir, paths)
    except CatalogueError as exc:
        for problem in exc.problems:
            typer.echo(str(problem))
        fail(f"{len(exc.problems)} problem(s) found")
    defined = [
        key for key, origin in catalogue.origins.items() if origin in {str(p) for p in paths}
    ]
    typer.echo(
        f"ok: {len(paths)} file(s), defining {', '.join(map(_key_text, defined)) or 'nothing'}"
    )


def _key_text(key: str | tuple[str, str]) -> str:
    return key if isinstance(key, str) else f"{key[0]} protocol {key[1]}"
