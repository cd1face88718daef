"""`readmit audit`: replay a case to any moment, verify histories (against a signed checkpoint
too), take checkpoints, export signed bundles and check them offline."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from adapters.audit.bundle import (
    BundleError,
    check_bundle,
    public_key_from,
    signing_key_from,
    write_bundle,
)
from adapters.audit.collect import (
    UnknownCase,
    collect_for_export,
    log_disclosure,
    replay,
    stored_events,
)
from adapters.db.eventstore import EventStore
from adapters.db.pool import create_pool
from adapters.encoding import public_key_text
from adapters.keys import audit_signing_seed, master_keyring
from adapters.protection.vault import PersonalDataVault
from adapters.settings import get_settings
from api.auth import Principal
from api.views import case_detail
from readmit.cli.audit_caller import AuditToken, may_audit, token_auditor
from readmit.cli.audit_checkpoint import check_checkpoint_command, checkpoint_command
from readmit.cli.audit_verify import verify_command
from readmit.cli.common import EXIT_REFUSED, database_url, fail, parse_instant, print_json
from readmit.cli.inbox import disclosures

AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Audits: replay, verify, checkpoint, export and check bundles, the disclosure log.",
        no_args_is_help=True,
    )
    group.command("replay")(replay_command)
    group.command("verify")(verify_command)
    group.command("checkpoint")(checkpoint_command)
    group.command("check-checkpoint")(check_checkpoint_command)
    group.command("export")(export_command)
    group.command("check-bundle")(check_bundle_command)
    group.command("public-key")(public_key_command)
    group.command("disclosures")(disclosures)
    app.add_typer(group, name="audit")


def replay_command(
    case_id: Annotated[str, typer.Argument(help="the case id")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="instant (ISO 8601)")] = None,
    version: Annotated[int | None, typer.Option("--version", min=0)] = None,
    json_out: AsJson = False,
    token: AuditToken = None,
) -> None:
    """The case as it stood at an instant or version: state, timeline, deadlines as set, and
    what the officers of each side could see and do then (for the token's auditor, logged)."""
    caller = token_auditor(token)
    instant = parse_instant(as_of, "--as-of") if as_of else None
    dsn = database_url()

    async def run() -> dict[str, Any]:
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            recorded = await stored_events(EventStore(pool), case_id)
            if not may_audit(caller, recorded):
                raise UnknownCase(case_id)  # as the API: not the auditor's, not disclosed
            state, kept = replay(recorded, as_of=instant, version=version)
            vault = PersonalDataVault(pool, master_keyring(get_settings()))
            revealed = await vault.reveal(state)
            await log_disclosure(
                pool,
                caller.user_id,
                caller.role,
                case_id,
                "replay",
                "readmit audit replay",
                state=caller.state,
            )
        finally:
            await pool.close()
        if not state.opened or state.terms is None:
            return {"case_id": case_id, "as_of": as_of, "version": 0, "state": None, "timeline": []}
        views = {}
        for side, party in (
            ("requesting", state.terms.requesting),
            ("requested", state.terms.requested),
        ):
            officer = Principal(
                user_id=f"officer.{party}", role="officer", state=party, states=frozenset({party})
            )
            detail = case_detail(state, officer)
            views[f"{side}_officer"] = {
                "status": detail["status"],
                "next_actions": detail["next_actions"],
            }
        return {
            "case_id": case_id,
            "as_of": as_of,
            "version": state.version,
            "state": case_detail(revealed, caller),
            "officers_saw": views,
            "timeline": [
                {
                    "version": r.version,
                    "type": r.type,
                    "recorded_at": r.recorded_at.isoformat(),
                    "actor": r.metadata.get("actor"),
                    "actor_state": r.metadata.get("actor_state"),
                    "actor_role": r.metadata.get("actor_role"),
                }
                for r in kept
            ],
            "deadlines_as_set": [r.data["deadline"] for r in kept if r.type == "DeadlineSet"],
        }

    try:
        report = asyncio.run(run())
    except UnknownCase:
        fail(f"no case {case_id}", EXIT_REFUSED)
    if json_out:
        print_json(report)
        return
    table = Table(title=f"{case_id} at version {report['version']}")
    for column in ("v", "event", "recorded at", "actor"):
        table.add_column(column)
    for item in report["timeline"]:
        table.add_row(
            str(item["version"]),
            item["type"],
            item["recorded_at"],
            f"{item['actor']} ({item['actor_role']}, {item['actor_state']})",
        )
    Console().print(table)
    if report["state"]:
        Console().print(
            f"status: {report['state']['status']}; officers saw: {report['officers_saw']}"
        )


def export_command(
    case_ids: Annotated[list[str], typer.Argument(help="case ids to export")],
    out: Annotated[Path, typer.Option("--out", help="an empty or new directory")],
    token: AuditToken = None,
) -> None:
    """Write a signed, self-contained bundle (events, terms, disclosure log, manifest), as the
    token's auditor: the bundle and the disclosure log name it."""
    settings = get_settings()
    caller = token_auditor(token)
    who = caller.user_id
    try:
        key = signing_key_from(audit_signing_seed(settings))
    except (BundleError, KeyError) as error:
        fail(str(error))
    dsn = database_url()

    async def run() -> None:
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            store = EventStore(pool)
            for case_id in case_ids:
                if not may_audit(caller, await stored_events(store, case_id)):
                    raise UnknownCase(case_id)  # as the API: not the auditor's, not disclosed
            vault = PersonalDataVault(pool, master_keyring(settings))
            cases = await collect_for_export(
                pool, vault, case_ids, who, caller.role, sees=caller.sees_state
            )
        finally:
            await pool.close()
        write_bundle(out, cases, key, who)

    try:
        asyncio.run(run())
    except UnknownCase as error:
        fail(f"no case {error}", EXIT_REFUSED)
    except BundleError as error:
        fail(str(error))
    typer.echo(f"exported {len(case_ids)} case(s) to {out}; public key: {public_key_text(key)}")


def check_bundle_command(
    directory: Annotated[Path, typer.Argument(help="the bundle directory")],
    public_key: Annotated[str, typer.Option("--public-key", help="base64 Ed25519 key, or @FILE")],
) -> None:
    """Verify a bundle offline with nothing but the exporter's public key. Exit 1 if altered."""
    text = public_key
    if public_key.startswith("@"):
        try:
            text = Path(public_key[1:]).read_text()
        except OSError as error:
            fail(f"cannot read {public_key[1:]}: {error.strerror}")
    try:
        report = check_bundle(directory, public_key_from(text))
    except BundleError as error:
        fail(str(error))
    for problem in report.problems:
        typer.echo(f"FAIL {problem}")
    typer.echo(f"{'intact' if report.ok else 'ALTERED'}: {len(report.cases)} case(s)")
    raise typer.Exit(0 if report.ok else EXIT_REFUSED)


def public_key_command() -> None:
    """Print the public key that checks this installation's bundles."""
    try:
        typer.echo(public_key_text(signing_key_from(audit_signing_seed(get_settings()))))
    except (BundleError, KeyError) as error:
        fail(str(error))
