"""`readmit node`: this installation's identity as a federated node (issue 16).

`init` makes the node's signing (Ed25519) and encryption (X25519) keys, writes them to the
node's key file (mode 0600; an existing one is kept unless `--force`) and prints the node's
public descriptor on stdout, for the peers' administrators (`readmit peers add`).
`descriptor` prints it again from the key file. `rotate` makes new keys, keeps the current
encryption key to decrypt for an overlap (messages the peers built to it), and prints the new
descriptor for the peers' administrators (`readmit peers rotate`).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from adapters.federation.identity import (
    IdentityError,
    KeyFileExists,
    NodeIdentity,
    check_state,
    default_keys_file,
)
from adapters.settings import get_settings
from readmit.cli.common import EXIT_REFUSED, fail

KeysFile = Annotated[
    Path | None,
    typer.Option(
        "--keys-file",
        help="the node's key file (default: READMIT_NODE_KEYS_FILE, else "
        "<READMIT_HOME>/nodes/<STATE>/node-keys.json)",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the `node` command group to `app`."""
    node_app = typer.Typer(
        name="node", help="This node's federation keys and descriptor.", no_args_is_help=True
    )
    node_app.command("init")(init_command)
    node_app.command("descriptor")(descriptor_command)
    node_app.command("rotate")(rotate_command)
    app.add_typer(node_app, name="node")


def init_command(
    state: Annotated[
        str | None,
        typer.Option("--state", help="ISO code of this node's state (default: READMIT_NODE_STATE)"),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="base URL the peers reach this node at: https, or http on loopback "
            "(default: READMIT_NODE_URL)",
        ),
    ] = None,
    keys_file: KeysFile = None,
    force: Annotated[
        bool, typer.Option("--force", help="replace an existing key file (its keys are lost)")
    ] = False,
) -> None:
    """Make the node's keys and print its public descriptor (JSON) on stdout."""
    settings = get_settings()
    state = state or settings.node_state
    url = url or settings.node_url
    if state is None:
        fail("no state: pass --state (e.g. --state PL) or set READMIT_NODE_STATE")
    if url is None:
        fail("no URL: pass --url (e.g. --url https://readmit.gov.pl) or set READMIT_NODE_URL")
    try:
        identity = NodeIdentity.create(check_state(state.upper()), url)
    except IdentityError as error:
        fail(str(error))
    path = keys_file or settings.node_keys_file or default_keys_file(settings.home, identity.state)
    try:
        identity.save(path, force=force)
    except KeyFileExists as error:
        fail(str(error), EXIT_REFUSED)
    except IdentityError as error:
        fail(str(error))
    typer.echo(identity.descriptor().to_json())
    typer.echo(f"node keys of {identity.state} written to {path} (mode 0600)", err=True)
    typer.echo(f"  signing key (Ed25519)    {identity.signing_kid}", err=True)
    typer.echo(f"  encryption key (X25519)  {identity.encryption_kid}", err=True)
    typer.echo(
        "next: hand the descriptor above to each peer's administrator (readmit peers add), "
        "and check its key ids with them by another channel",
        err=True,
    )


def descriptor_command(keys_file: KeysFile = None) -> None:
    """Print this node's public descriptor (JSON) from its key file."""
    typer.echo(load_identity(keys_file).descriptor().to_json())


def rotate_command(
    keys_file: KeysFile = None,
    overlap_days: Annotated[
        int | None,
        typer.Option(
            "--overlap-days",
            min=1,
            max=365,
            help="how long the current encryption key still decrypts what peers built to it "
            "(default: READMIT_FEDERATION_KEY_OVERLAP_DAYS; at least the 14 days a message "
            "may be resent is safest)",
        ),
    ] = None,
) -> None:
    """Give this node new keys and print its new descriptor (JSON) on stdout. Restart the
    node's API and workers to use them; the peers take them with `readmit peers rotate`."""
    settings = get_settings()
    path = keys_file or settings.node_keys_path()
    identity = load_identity(keys_file)
    assert path is not None
    days = overlap_days or settings.federation_key_overlap_days or 1
    renewed = identity.rotated(timedelta(days=days))
    try:
        renewed.save(path, force=True)
    except IdentityError as error:
        fail(str(error), EXIT_REFUSED)
    typer.echo(renewed.descriptor().to_json())
    typer.echo(f"node keys of {renewed.state} renewed in {path}", err=True)
    typer.echo(f"  signing key (Ed25519)    {renewed.signing_kid}", err=True)
    typer.echo(f"  encryption key (X25519)  {renewed.encryption_kid}", err=True)
    typer.echo(
        f"  the previous encryption key {identity.encryption_kid} decrypts for {days} days",
        err=True,
    )
    typer.echo(
        "next: restart this node's API and workers; hand the descriptor above to each peer's "
        "administrator (readmit peers rotate); until a peer has it, this node's messages to it "
        "wait and are resent",
        err=True,
    )


def load_identity(keys_file: Path | None = None) -> NodeIdentity:
    """This node's identity from `keys_file`, else the configured key file; one line, exit 2,
    when there is none or it does not match READMIT_NODE_STATE."""
    settings = get_settings()
    path = keys_file or settings.node_keys_path()
    if path is None:
        fail("which node? set READMIT_NODE_STATE (or READMIT_NODE_KEYS_FILE), or pass --keys-file")
    try:
        identity = NodeIdentity.load(path)
    except IdentityError as error:
        fail(str(error))
    if settings.node_state is not None and identity.state != settings.node_state:
        fail(
            f"{path} holds the keys of node {identity.state}, but READMIT_NODE_STATE is "
            f"{settings.node_state}"
        )
    return identity
