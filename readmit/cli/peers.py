"""`readmit peers`: the nodes this node trusts (issue 16), administered as the owner.

A peer is registered from the descriptor its administrator printed (`readmit node init`),
given as a file or on stdin (`-`). New keys of a registered peer are a rotation: its previous
keys stay accepted for the overlap (READMIT_FEDERATION_KEY_OVERLAP_DAYS). Revoking stops
trusting a peer, or one of its keys, at once. Like the directory, the peers are reference data:
these commands migrate and connect with the owner's DSN, and the API and workers only read them.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError

from adapters.db.migrate import migrate_dsn
from adapters.db.pool import create_pool
from adapters.federation.identity import NodeDescriptor
from adapters.federation.peers import Peer, PeerDirectory, PeerKeyRefused, PeerUpdateRefused
from adapters.settings import get_settings
from readmit.cli.common import (
    OwnerDatabaseUrl,
    Schema,
    fail,
    owner_database_url,
    print_json,
    run_on_database,
)

T = TypeVar("T")
Descriptor = Annotated[str, typer.Argument(help="the peer's descriptor file, or - for stdin")]


def register(app: typer.Typer) -> None:
    """Add the `peers` command group to `app`."""
    peers_app = typer.Typer(
        name="peers", help="The federation's peer nodes and their keys.", no_args_is_help=True
    )
    peers_app.command("add")(add_command)
    peers_app.command("list")(list_command)
    peers_app.command("rotate")(rotate_command)
    peers_app.command("revoke")(revoke_command)
    app.add_typer(peers_app, name="peers")


def add_command(file: Descriptor, given: OwnerDatabaseUrl = None, schema: Schema = None) -> None:
    """Register a peer node from its descriptor."""
    descriptor = read_descriptor(file)
    peer = _on_directory(given, schema, lambda peers: peers.add(descriptor, _now()))
    kids = ", ".join(f"{k.use} {k.kid}" for k in peer.keys)
    typer.echo(f"peer {peer.state} registered at {peer.url}: {kids}")


def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    given: OwnerDatabaseUrl = None,
    schema: Schema = None,
) -> None:
    """List the peers, with each key's status (active, retiring, rotated_out, revoked)."""
    peers = _on_directory(given, schema, lambda directory: directory.list())
    now = _now()
    if as_json:
        print_json([p.as_json(now) for p in peers])
        return
    if not peers:
        typer.echo("no peers (readmit peers add DESCRIPTOR)")
    for peer in peers:
        typer.echo(_peer_line(peer, now))
        for key in peer.keys:
            status: str = key.status(now)
            if status == "retiring" and key.retired_at is not None:
                status += f" until {key.retired_at.isoformat(timespec='seconds')}"
            elif status == "revoked" and key.revoked_at is not None:
                status += f" since {key.revoked_at.isoformat(timespec='seconds')}"
            typer.echo(f"  {key.use}  {key.crv:<8} {key.kid}  {status}")


def rotate_command(
    file: Descriptor,
    overlap_days: Annotated[
        int | None,
        typer.Option(
            "--overlap-days",
            min=0,
            help="days the previous keys stay accepted (default: "
            "READMIT_FEDERATION_KEY_OVERLAP_DAYS)",
        ),
    ] = None,
    given: OwnerDatabaseUrl = None,
    schema: Schema = None,
) -> None:
    """Take a registered peer's new descriptor: its new keys now, its old ones until the end
    of the overlap."""
    descriptor = read_descriptor(file)
    days = overlap_days if overlap_days is not None else get_settings().federation_key_overlap_days
    rotation = _on_directory(
        given, schema, lambda peers: peers.rotate(descriptor, timedelta(days=days), _now())
    )
    added = ", ".join(rotation.added) or "none"
    typer.echo(f"peer {rotation.state} rotated: new keys {added}")
    if rotation.retiring:
        until = rotation.until.isoformat(timespec="seconds")
        typer.echo(f"accepted until {until}: {', '.join(rotation.retiring)}")


def revoke_command(
    state: Annotated[str, typer.Argument(help="the peer's state, e.g. UA")],
    key: Annotated[
        str | None, typer.Option("--key", help="revoke only this key id of the peer")
    ] = None,
    given: OwnerDatabaseUrl = None,
    schema: Schema = None,
) -> None:
    """Stop trusting a peer (all its keys), or one of its keys, from now on."""
    state = state.upper()
    count = _on_directory(given, schema, lambda peers: peers.revoke(state, _now(), kid=key))
    what = f"key {key} of peer {state}" if key else f"peer {state}"
    typer.echo(f"{what} revoked" + ("" if count else " already"))


def read_descriptor(file: str) -> NodeDescriptor:
    """The descriptor in `file` (`-`: stdin); one line and exit 2 when it is not one."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {file}: {getattr(error, 'strerror', None) or error}")
    try:
        return NodeDescriptor.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "descriptor"
        fail(
            f"{'stdin' if file == '-' else file} is not a node descriptor: {where}: {first['msg']}"
        )


def _peer_line(peer: Peer, now: datetime) -> str:
    status = "revoked" if peer.revoked(now) else "active"
    return (
        f"{peer.state}  {peer.url}  {status}  added {peer.added_at.isoformat(timespec='seconds')}"
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _on_directory(
    given: str | None, schema: str | None, work: Callable[[PeerDirectory], Awaitable[T]]
) -> T:
    """Migrate, then run `work` on the peer directory as the owner; a refusal is exit 1, a
    database that cannot be reached exit 2."""
    dsn = owner_database_url(given)
    settings = get_settings()

    async def run() -> T:
        await migrate_dsn(
            dsn, schema=schema, create_schema=schema is not None, runtime=settings.runtime_role()
        )
        pool = await create_pool(dsn, schema=schema, min_size=1, max_size=2)
        try:
            return await work(PeerDirectory(pool, own_state=settings.node_state))
        finally:
            await pool.close()

    return run_on_database(run, (PeerKeyRefused, PeerUpdateRefused))
