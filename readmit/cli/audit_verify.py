"""`readmit audit verify`: hash chains, deterministic replay and store/workflow agreement for
named cases or for every case in the store, with progress, a summary and an exit code; with
`--checkpoint`, also every change to the history a signed checkpoint covers (and with `--all`,
the cases it holds that the store has lost).

`verify_cases` is the command without its composition root (settings, pool, client), so tests
and benches run exactly what the command runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import httpx
import typer

from adapters.audit.parallel import ProcessVerifier, Recipe
from adapters.audit.peer_anchors import PeerAnchors
from adapters.audit.unchanged import unchanged_since, without
from adapters.audit.verify import CaseVerification, Verifier, with_lost_streams
from adapters.db.event_queries import stream_ids
from adapters.db.eventstore import EventStore
from adapters.db.pool import create_pool
from adapters.federation.heads import PeerChains
from adapters.federation.peers import PeerDirectory
from adapters.federation.store import ExchangeStore
from adapters.keys import node_identity, payload_keyring
from adapters.settings import ConfigurationError, get_settings
from adapters.temporal.client import connect_client
from adapters.temporal.codec import data_converter
from adapters.temporal.runtime import exit_now, install_runtime
from readmit.cli.audit_checkpoint import PublicKey, checked_checkpoint, expected_public_key
from readmit.cli.common import (
    EXIT_REFUSED,
    TemporalAddress,
    database_url,
    fail,
    temporal_address,
)
from readmit.cli.progress import job_progress

_SKIPPED = (
    "their stored head is the one the checkpoint signed, so neither their chains were "
    "recomputed nor their histories replayed; --full re-verifies them"
)


def _line(report: CaseVerification) -> str:
    mark = "ok  " if report.ok else "FAIL"
    line = (
        f"{mark} {report.case_id}  chain: {report.chain_detail}; replay: {report.replay_detail};"
        f" store vs workflow: {report.agree_detail}"
    )
    if report.anchor is not None:
        line += f"; checkpoint: {report.anchor_detail}"
    if report.peer is not None:
        line += f"; peer: {report.peer_detail}"
    return line


async def verify_cases(
    verifier: Verifier | ProcessVerifier,
    case_ids: AsyncIterator[str],
    total: int,
    *,
    verbose: bool = False,
    json_out: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
    terminal: bool | None = None,
    skipped: int = 0,
) -> int:
    """Verify `total` cases from `case_ids`; print failures (every case if `verbose`) in case id
    order and a summary to `out` (as JSON with `json_out`), progress to `err`. Returns the exit
    code. `skipped` cases (unchanged since the checkpoint, `adapters/audit/unchanged.py`) are
    not in `case_ids`; they count as verified by their signed head, and the summary says so."""
    out, err = out or sys.stdout, err or sys.stderr
    shown: list[CaseVerification] = []
    counts = {"verified": skipped, "failed": 0}
    started = time.monotonic()
    with job_progress(err, total, "verifying", "cases", terminal=terminal) as progress:

        def record(report: CaseVerification) -> None:
            counts["verified"] += 1
            counts["failed"] += not report.ok
            progress.advance(report.ok)
            if verbose or not report.ok:
                shown.append(report)

        await verifier.run(case_ids, record)
    seconds = time.monotonic() - started
    rate = (counts["verified"] - skipped) / seconds if seconds > 0 else 0.0  # those checked
    shown.sort(key=lambda r: r.case_id)
    anchor = verifier.checkpoint
    if json_out:
        summary: dict[str, Any] = {
            **counts,
            "seconds": round(seconds, 2),
            "cases_per_second": round(rate, 1),
        }
        if anchor is not None:
            summary["checkpoint"] = {
                "created_at": anchor.created_at,
                "global_position": anchor.global_position,
                "cases": len(anchor.streams),
                "key_id": anchor.key_id,
            }
            summary["skipped"] = {"cases": skipped, "reason": _SKIPPED}
        document = {
            "ok": not counts["failed"],
            "cases": [r.as_dict() for r in shown],
            "summary": summary,
        }
        json.dump(document, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        for report in shown:
            out.write(_line(report) + "\n")
        against = (
            ""
            if anchor is None
            else f", against the checkpoint of {anchor.created_at} (position "
            f"{anchor.global_position:,}, {len(anchor.streams):,} cases)"
        )
        out.write(
            f"{counts['verified']} verified, {counts['failed']} failed"
            f" in {seconds:.1f} s ({rate:,.1f} cases/s){against}\n"
        )
        if skipped:
            out.write(f"{skipped:,} of them skipped: {_SKIPPED}\n")
    out.flush()
    return EXIT_REFUSED if counts["failed"] else 0


def verify_command(
    case_ids: Annotated[list[str] | None, typer.Argument(help="case ids (or --all)")] = None,
    all_cases: Annotated[bool, typer.Option("--all", help="every case in the store")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="with --all, a line for every case")
    ] = False,
    given_address: TemporalAddress = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    checkpoint_file: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="a signed checkpoint (`readmit audit checkpoint`): also report every change to "
            "the history it covers",
        ),
    ] = None,
    public_key: PublicKey = None,
    peer: Annotated[
        bool,
        typer.Option(
            "--peer",
            help="on a federated node: also check each case against the chain heads its peer "
            "signed in receipts (docs/federation.md)",
        ),
    ] = False,
    fetch: Annotated[
        bool,
        typer.Option(
            "--fetch",
            help="with --peer: also ask the peer node (signed) for its chain of each case and "
            "check it against the heads it signed in messages and receipts",
        ),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="with --all --checkpoint: also re-verify the cases whose head is still the one "
            "the checkpoint signed (skipped by default); run it after each release",
        ),
    ] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            min=1,
            help="with --all: verify in this many worker processes (replay is CPU-bound; one "
            "per free core); not with --peer",
        ),
    ] = 1,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="replay in Temporal's workflow sandbox, as the workers run (several times "
            "slower; also refuses restricted calls added to workflow code)",
        ),
    ] = False,
) -> None:
    """Recompute hash chains, replay Temporal histories against the current code, and check that
    the store holds exactly what the workflow appended. With --checkpoint, also check that
    every case still holds the head the checkpoint signed (a rewritten event, a truncated tail,
    a deleted case fail, even with their hash chains recomputed; later events only extend it).
    With --peer, also check that every case still holds each head the peer node signed for it
    in its receipts, and each this node signed in its own (a rewrite after an exchange fails).
    Named cases get a line each; with --all only failures do (unless --verbose), under a
    progress bar. With --all --checkpoint (and no --peer), cases whose stored head is the one
    the checkpoint signed are skipped, and counted, unless --full. Replay runs unsandboxed
    unless --sandbox; --jobs N spreads --all over N processes. Exit 1 on any failure."""
    if not case_ids and not all_cases:
        fail("name cases to verify, or pass --all")
    if jobs > 1 and peer:
        fail("--jobs verifies in separate processes, --peer in this one: pass one of them")
    checkpoint = None
    if checkpoint_file is not None:
        checkpoint = checked_checkpoint(checkpoint_file, expected_public_key(public_key))
    elif public_key is not None:
        fail("--public-key checks a --checkpoint; pass one")
    settings = get_settings()
    if peer and settings.node_state is None:
        fail("--peer checks a federated node's cases: READMIT_NODE_STATE is not set")
    if fetch and not peer:
        fail("--fetch asks the peer for its chain: pass --peer too")
    try:
        identity = node_identity(settings) if fetch else None
    except ConfigurationError as error:
        fail(str(error))
    address = temporal_address(given_address)
    dsn = database_url()
    install_runtime("ERROR")

    async def run() -> int:
        async with contextlib.AsyncExitStack() as closing:
            return await verify(closing)

    async def verify(closing: contextlib.AsyncExitStack) -> int:
        pool = await create_pool(dsn, min_size=1, max_size=4)
        try:
            store = EventStore(pool)
            client = await connect_client(settings, address)
            anchors = None
            if peer:
                directory = PeerDirectory(pool, own_state=settings.node_state)
                chains = None
                if identity is not None:
                    http = httpx.AsyncClient(timeout=30.0, follow_redirects=False)
                    closing.push_async_callback(http.aclose)
                    chains = PeerChains(identity, directory, http)
                anchors = PeerAnchors(ExchangeStore(pool), directory, chains)
            verifier: Verifier | ProcessVerifier = Verifier(
                store,
                client,
                data_converter(payload_keyring(settings)),
                checkpoint=checkpoint,
                peer=anchors,
                sandbox=sandbox,
            )
            if case_ids:
                unique = list(dict.fromkeys(case_ids))
                return await verify_cases(
                    verifier, _listed(unique), len(unique), verbose=True, json_out=json_out
                )
            if jobs > 1:
                recipe = Recipe(dsn, address, checkpoint=checkpoint, sandbox=sandbox)
                verifier = ProcessVerifier(recipe, jobs=jobs)
            total = await store.count_streams()
            ids = stream_ids(pool)
            skipped: set[str] = set()
            if checkpoint is not None:
                if not (full or peer):
                    skipped = await unchanged_since(pool, checkpoint)
                    ids, total = without(ids, skipped), total - len(skipped)
                ids, lost = await with_lost_streams(store, ids, checkpoint)
                total += lost
            return await verify_cases(
                verifier, ids, total, verbose=verbose, json_out=json_out, skipped=len(skipped)
            )
        finally:
            await pool.close()

    exit_now(asyncio.run(run()))


async def _listed(case_ids: list[str]) -> AsyncIterator[str]:
    for case_id in case_ids:
        yield case_id
