"""`readmit keys`: key material for operators.

`new-payload-key` makes a key for the Temporal payload codec (AES-256, base64 as
`READMIT_PAYLOAD_KEYS` wants it). Rotation is two deployments: first every process gets the new
key while the old one stays active, then the new one is made active (see docs/operations.md,
"Rotating the payload key"). Nothing is written anywhere: the key goes to stdout only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from adapters.settings import get_settings
from adapters.temporal.codec import Keyring, KeyringError
from readmit.cli.common import fail

app = typer.Typer(help="Key material: new payload keys for rotation.", no_args_is_help=True)


@app.command("new-payload-key")
def new_payload_key(
    key_id: Annotated[
        str | None, typer.Option("--id", help="the new key's id (default: the month, YYYY-MM)")
    ] = None,
    merge: Annotated[
        bool,
        typer.Option(
            "--merge", help="print READMIT_PAYLOAD_KEYS with the keys already set plus the new one"
        ),
    ] = False,
) -> None:
    """Print a new random AES-256 payload key as JSON {"id": "key"}: add it to
    READMIT_PAYLOAD_KEYS on every process, and only then make it READMIT_PAYLOAD_KEY_ID."""
    current = get_settings().payload_keys
    new_id = key_id or datetime.now(UTC).strftime("%Y-%m")
    if not new_id.strip() or new_id != new_id.strip():
        fail(f"key id {new_id!r} must be non-empty, without surrounding blanks")
    if new_id in current:
        fail(f"READMIT_PAYLOAD_KEYS already has a key {new_id!r}; choose another --id")
    key = Keyring.new_key()
    keys = {**current, new_id: key} if merge else {new_id: key}
    try:
        Keyring.from_encoded(keys, new_id)  # the codec accepts what we print
    except KeyringError as error:
        fail(str(error))
    typer.echo(json.dumps(keys))
    typer.echo(
        f"next: add {new_id!r} to READMIT_PAYLOAD_KEYS everywhere, keeping the active key;"
        f" once every process has it, set READMIT_PAYLOAD_KEY_ID={new_id}",
        err=True,
    )
