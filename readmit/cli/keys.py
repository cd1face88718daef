"""`readmit keys`: key material for operators.

`init` prints a complete, fresh production key set as `.env` lines: the payload and master
keyrings with dated ids, the audit and command signing seeds, the command signing key's public
half (`READMIT_COMMAND_VERIFY_KEYS`, for the workers), the HS256 secret of service tokens, and
`READMIT_ENV=production`.

`new-payload-key` makes a key for the Temporal payload codec (AES-256, base64 as
`READMIT_PAYLOAD_KEYS` wants it). Rotation is two deployments: first every process gets the new
key while the old one stays active, then the new one is made active (see docs/operations.md,
"Rotating the payload key").

Nothing is written anywhere: the keys go to stdout only.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from datetime import UTC, datetime
from typing import Annotated

import typer

from adapters.encoding import public_key_text, signing_key_from
from adapters.settings import get_settings
from adapters.temporal.codec import Keyring, KeyringError
from readmit.cli.common import EXIT_REFUSED, fail

app = typer.Typer(
    help="Key material: a production key set, new payload keys for rotation.",
    no_args_is_help=True,
)


@app.command("init")
def init(
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="print a new set even though this environment already has keys"
        ),
    ] = False,
) -> None:
    """Print a fresh production key set as `.env` lines (`readmit keys init > .env`)."""
    current = get_settings()
    if (current.master_keys or current.payload_keys) and not force:
        fail(
            "READMIT_MASTER_KEYS or READMIT_PAYLOAD_KEYS is already set here: new keys would "
            "lock every case's data out; rotate instead (docs/operations.md), or --force",
            EXIT_REFUSED,
        )
    now = datetime.now(UTC)
    made_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    typer.echo(f"# Readmit production keys, made {made_at} by `readmit keys init`.")
    typer.echo("# Secret: keep this file 0600 and backed up. The master keys are the only way")
    typer.echo("# to read the personal data of every case; the payload keys, of every history.")
    for name, value in production_key_set(now).items():
        typer.echo(f"{name}={value}")
    typer.echo(
        "next: add DATABASE_URL and READMIT_TEMPORAL_ADDRESS, the identity provider's settings "
        "(docs/configuration.md), and give every API and worker process this set",
        err=True,
    )


def production_key_set(now: datetime) -> dict[str, str]:
    """Every secret a production deployment needs, new, as `.env` values (JSON quoted)."""
    day = now.strftime("%Y-%m-%d")
    payload_id = f"payload-{day}-{secrets.token_hex(2)}"
    master_id = f"master-{day}-{secrets.token_hex(2)}"
    command_seed = _seed()
    verify_keys = [public_key_text(signing_key_from(command_seed))]
    return {
        "READMIT_ENV": "production",
        "READMIT_PAYLOAD_KEYS": f"'{json.dumps({payload_id: Keyring.new_key()})}'",
        "READMIT_PAYLOAD_KEY_ID": payload_id,
        "READMIT_MASTER_KEYS": f"'{json.dumps({master_id: Keyring.new_key()})}'",
        "READMIT_MASTER_KEY_ID": master_id,
        "READMIT_AUDIT_SIGNING_KEY": _seed(),
        "READMIT_COMMAND_SIGNING_KEY": command_seed,
        # the workers' half: they check the API's signatures without being able to sign
        "READMIT_COMMAND_VERIFY_KEYS": f"'{json.dumps(verify_keys)}'",
        "READMIT_JWT_SECRET": secrets.token_urlsafe(48),
        "READMIT_SEARCH_KEY": _seed(),  # the person search's blind index
        "READMIT_METRICS_TOKEN": secrets.token_urlsafe(32),  # the API's scrape secret
    }


def _seed() -> str:
    """32 random bytes (an Ed25519 seed), URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


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
