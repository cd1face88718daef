"""`readmit privacy`: the case data keys: their state, erasure, the retention sweep, rotation.

Personal data of a case is sealed with the case's own data key, wrapped by a master key
(`READMIT_MASTER_KEYS`). Erasing the key (crypto-shredding) makes the data unreadable everywhere;
re-wrapping moves every key under the active master key so that an old one can be retired.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import asyncpg
import typer

from adapters.attachments.store import attachment_store
from adapters.db.case_queries import closed_at
from adapters.db.pool import create_pool
from adapters.directory import rewrap_webhook_secrets
from adapters.keys import master_keyring
from adapters.protection.vault import PersonalDataVault
from adapters.settings import ConfigurationError, get_settings
from adapters.temporal.codec import KeyringError
from readmit.cli.common import EXIT_REFUSED, database_url, fail, parse_instant, print_json
from readmit.cli.progress import job_progress

T = TypeVar("T")
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def register(app: typer.Typer) -> None:
    """Add the `privacy` command group to `app`."""
    group = typer.Typer(
        name="privacy",
        help="Case data keys: status, erasure (crypto-shredding), retention sweep, rotation.",
        no_args_is_help=True,
    )
    group.command("status")(status_command)
    group.command("erase")(erase_command)
    group.command("sweep")(sweep_command)
    group.command("rewrap")(rewrap_command)
    app.add_typer(group, name="privacy")


def _with_vault(work: Callable[[PersonalDataVault], Awaitable[T]]) -> T:
    """Run `work` with a vault on the configured database; key and SQL errors exit 1."""
    settings = get_settings()
    try:
        master = master_keyring(settings)
    except KeyringError as error:
        fail(str(error))
    dsn = database_url()

    async def run() -> T:
        pool = await create_pool(dsn, min_size=1, max_size=4)
        try:
            return await work(PersonalDataVault(pool, master, attachment_store(settings, pool)))
        finally:
            await pool.close()

    try:
        return asyncio.run(run())
    except KeyringError as error:
        fail(f"{error}: add that master key to READMIT_MASTER_KEYS", EXIT_REFUSED)
    except ConfigurationError as error:  # an attachment store the settings cannot make
        fail(str(error))
    except (OSError, asyncpg.PostgresError) as error:
        fail(f"PostgreSQL: {str(error).splitlines()[0]}", EXIT_REFUSED)


def status_command(
    case_id: Annotated[str, typer.Argument(help="the case id")], json_out: AsJson = False
) -> None:
    """Whether the case's data key exists, and when and why it was erased."""
    status = _with_vault(lambda vault: vault.status(case_id))
    shown: dict[str, Any] = {
        "case_id": case_id,
        "key": "erased" if status.erased_at else ("present" if status.exists else "none"),
        "erased_at": status.erased_at.isoformat() if status.erased_at else None,
        "reason": status.erasure_reason,
    }
    if json_out:
        print_json(shown)
        return
    typer.echo("  ".join(f"{k}={v}" for k, v in shown.items() if v is not None))
    if not status.exists:
        raise typer.Exit(EXIT_REFUSED)


def erase_command(
    case_ids: Annotated[list[str], typer.Argument(help="case ids")],
    reason: Annotated[str, typer.Option("--reason", help="why (kept with the erasure)")],
    force: Annotated[
        bool, typer.Option("--force", help="erase cases that are not closed as well")
    ] = False,
) -> None:
    """Erase the data keys of closed cases now (e.g. on a lawful request), irreversibly."""
    if not reason.strip():
        fail("--reason must say why the data is erased")

    async def work(vault: PersonalDataVault) -> tuple[list[str], list[str]]:
        known = await closed_at(vault.pool, case_ids)
        unknown = [c for c in case_ids if c not in known]
        if unknown:
            fail(f"no such case: {', '.join(unknown)}")
        open_cases = [c for c in case_ids if known[c] is None]
        if open_cases and not force:
            fail(f"not closed (use --force to erase anyway): {', '.join(open_cases)}")
        erased = await vault.erase(case_ids, datetime.now(UTC), reason.strip())
        return erased, [c for c in case_ids if c not in erased]

    erased, before = _with_vault(work)
    for case_id in erased:
        typer.echo(f"erased  {case_id}")
    for case_id in before:
        typer.echo(f"already erased  {case_id}")


def sweep_command(
    at: Annotated[
        str | None, typer.Option("--at", help="instant to judge retention at (default: now)")
    ] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=10_000)] = 500,
) -> None:
    """Erase, now, the data keys of every closed case whose retention period has ended (what the
    Temporal Schedule does every night)."""
    instant = parse_instant(at, "--at") if at else datetime.now(UTC)

    async def work(vault: PersonalDataVault) -> int:
        total = 0
        while expired := await vault.expired(instant, limit=batch):
            erased = await vault.erase(expired, instant, "retention period ended")
            total += len(erased)
            typer.echo(f"erased {total} data key(s) so far", err=True)
            if len(expired) < batch:
                break
        return total

    total = _with_vault(work)
    typer.echo(f"{total} case(s) erased: retention ended by {instant.isoformat()}")


def rewrap_command(
    batch: Annotated[int, typer.Option("--batch", min=1, max=10_000)] = 500,
) -> None:
    """Re-wrap every case data key, and every webhook secret, under the active master key
    (READMIT_MASTER_KEY_ID), online: after it, the other master keys can be removed from
    READMIT_MASTER_KEYS."""

    async def work(vault: PersonalDataVault) -> int:
        total = await vault.to_rewrap()
        with job_progress(sys.stderr, total, "re-wrapping data keys", "keys") as progress:

            def advance(keys: int) -> None:
                for _ in range(keys):
                    progress.advance(True)

            return await vault.rewrap(batch=batch, on_batch=advance)

    count = _with_vault(work)

    async def webhooks(vault: PersonalDataVault) -> int:
        async with vault.pool.acquire() as conn:
            return await rewrap_webhook_secrets(conn, vault.master)

    secrets = _with_vault(webhooks)
    active = master_keyring(get_settings()).active
    typer.echo(f"{count} data key(s) re-wrapped under master key {active!r}")
    typer.echo(f"{secrets} officer(s)' webhook secrets re-wrapped under master key {active!r}")
