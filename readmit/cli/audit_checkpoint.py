"""`readmit audit checkpoint` and `check-checkpoint`: sign every case's head into a file kept
outside the database, and check such a file offline (`audit verify --checkpoint` checks the
database against it)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.audit.bundle import BundleError, public_key_from, signing_key_from
from adapters.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointSignatureError,
    SignedCheckpoint,
    load_checkpoint,
    take_checkpoint,
    write_atomically,
)
from adapters.db.pool import create_pool
from adapters.keys import audit_signing_seed
from adapters.settings import get_settings
from readmit.cli.common import EXIT_REFUSED, database_url, fail, print_json
from readmit.cli.progress import JobProgress, job_progress

PublicKey = Annotated[
    str | None,
    typer.Option(
        "--public-key",
        help="base64 Ed25519 key, or @FILE, that must have signed the checkpoint "
        "(default: this installation's audit key)",
    ),
]


def expected_public_key(given: str | None) -> Ed25519PublicKey:
    """The key a checkpoint must be signed with: `--public-key`, else this installation's."""
    if given is None:
        try:
            return signing_key_from(audit_signing_seed(get_settings())).public_key()
        except (BundleError, KeyError) as error:
            fail(f"{error}; or pass --public-key")
    text = given
    if given.startswith("@"):
        try:
            text = Path(given[1:]).read_text()
        except OSError as error:
            fail(f"cannot read {given[1:]}: {error.strerror}")
    try:
        return public_key_from(text)
    except BundleError as error:
        fail(f"--public-key: {error}")


def checked_checkpoint(path: Path, public_key: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint in `path`, its signature verified, or a one-line failure: exit 1 for a
    signature that does not verify, 2 for a file that is no checkpoint at all."""
    try:
        return load_checkpoint(path, public_key)
    except CheckpointSignatureError as error:
        fail(f"{path}: {error}", EXIT_REFUSED)
    except CheckpointError as error:
        fail(f"{path}: {error}")


def describe(checkpoint: Checkpoint) -> str:
    return (
        f"{len(checkpoint.streams):,} case(s), {checkpoint.event_count:,} event(s) up to "
        f"position {checkpoint.global_position:,}, taken {checkpoint.created_at}, "
        f"key {checkpoint.key_id}, Merkle root {checkpoint.merkle_root}"
    )


def checkpoint_command(
    out: Annotated[Path, typer.Option("--out", help="the file to write (must not exist)")],
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Sign every case's head (its last version and hash) with the audit signing key into a
    checkpoint file. Keep it where the database's administrators cannot reach it: `audit
    verify --all --checkpoint FILE` then reports any change to the history it covers."""
    if out.exists():
        fail(f"{out} exists: a checkpoint is never overwritten")
    if not out.parent.is_dir():
        fail(f"{out.parent} is not a directory")
    settings = get_settings()
    try:
        key = signing_key_from(audit_signing_seed(settings))
    except (BundleError, KeyError) as error:
        fail(str(error))
    dsn = database_url()

    async def run() -> SignedCheckpoint:
        pool = await create_pool(dsn, min_size=1, max_size=1)
        progress = _Progress()
        try:
            return await take_checkpoint(pool, key, progress)
        finally:
            progress.close()
            await pool.close()

    try:
        signed = asyncio.run(run())
    except (OSError, asyncpg.PostgresError) as error:
        fail(f"cannot read the event store: {type(error).__name__}")
    try:
        write_atomically(out, signed.data)
    except FileExistsError:
        fail(f"{out} exists: a checkpoint is never overwritten")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror}")
    checkpoint = signed.checkpoint
    if json_out:
        print_json(_summary(checkpoint, out))
    else:
        typer.echo(f"checkpoint of {describe(checkpoint)} written to {out}")


def check_checkpoint_command(
    checkpoint_file: Annotated[Path, typer.Argument(help="the checkpoint file")],
    public_key: PublicKey = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Check a checkpoint file offline (its signature with the public key, its Merkle root
    and counts), as a receiver of the checkpoints does. Exit 1 if the signature fails."""
    checkpoint = checked_checkpoint(checkpoint_file, expected_public_key(public_key))
    if json_out:
        print_json(_summary(checkpoint, checkpoint_file))
    else:
        typer.echo(f"signed checkpoint of {describe(checkpoint)}")


def _summary(checkpoint: Checkpoint, path: Path) -> dict[str, object]:
    return {
        "file": str(path),
        "created_at": checkpoint.created_at,
        "global_position": checkpoint.global_position,
        "cases": len(checkpoint.streams),
        "events": checkpoint.event_count,
        "merkle_root": checkpoint.merkle_root,
        "key_id": checkpoint.key_id,
        "public_key": checkpoint.public_key,
    }


class _Progress:
    """`progress(done, total)` of the heads read, on a bar (or plain lines) on stderr; opened
    once the snapshot knows how many cases there are."""

    def __init__(self) -> None:
        self.bar: JobProgress | None = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = job_progress(sys.stderr, total, "checkpointing", "cases").__enter__()
        for _ in range(done - self.shown):
            self.bar.advance(True)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
