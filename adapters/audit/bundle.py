"""Signed audit bundles: a case's history, the terms it ran under and its disclosures, in files
anyone can check offline with nothing but the exporter's Ed25519 public key.

Layout::

    manifest.json      {"format", "created_at", "exported_by", "cases", "files": {path: sha256}}
    manifest.sig       base64 Ed25519 signature of manifest.json's bytes
    cases/<id>/events.jsonl       the stored events, one JSON object a line, with their hashes
    cases/<id>/terms.json         the agreement and protocol parameters the case ran under
    cases/<id>/disclosures.jsonl  who saw or exported the case's personal data, and why
    cases/<id>/personal.json      the sealed personal data opened with the case key (with every
                                  version of the person, as opened and as corrected), or the
                                  record of its erasure (events.jsonl holds only the seals)

`check_bundle` verifies the signature, every file's digest (and that no file was added), every
case's hash chain (recomputed from the lines, see docs/event-store.md), and that
terms.json is what the case was opened under. It opens nothing outside the bundle: a manifest
naming `../x`, an absolute path, or a symbolic link leading out is refused before any file is read.

The files hold personal data (personal.json the person in clear, the others officers' names), so
they are written 0600 in directories 0700, whatever the umask.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapters import encoding
from adapters.db.canonical import format_recorded_at, verify_chain
from adapters.db.eventstore import Recorded
from adapters.encoding import KeyEncodingError, public_key_text

FORMAT = "readmit-audit-bundle/1"


class BundleError(ValueError):
    """A bundle that cannot be read at all (missing manifest, not JSON, bad key)."""


def event_line(event: Recorded) -> dict[str, Any]:
    """One stored event as a line of events.jsonl (hashes in hex, instants as in the chain)."""
    return {
        "stream_id": event.stream_id,
        "version": event.version,
        "global_position": event.global_position,
        "event_id": str(event.event_id),
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "metadata": event.metadata,
        "recorded_at": format_recorded_at(event.recorded_at),
        "prev_hash": event.prev_hash.hex(),
        "hash": event.hash.hex(),
    }


def event_from_line(item: dict[str, Any]) -> Recorded:
    return Recorded(
        global_position=int(item["global_position"]),
        stream_id=str(item["stream_id"]),
        version=int(item["version"]),
        event_id=UUID(str(item["event_id"])),
        type=str(item["type"]),
        schema_version=int(item["schema_version"]),
        data=dict(item["data"]),
        metadata=dict(item["metadata"]),
        recorded_at=datetime.strptime(item["recorded_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=UTC
        ),
        prev_hash=bytes.fromhex(item["prev_hash"]),
        hash=bytes.fromhex(item["hash"]),
    )


@dataclass
class CaseFiles:
    case_id: str
    events: Sequence[Recorded]
    terms: dict[str, Any]
    disclosures: Sequence[dict[str, Any]]
    personal: dict[str, Any] = field(default_factory=dict)


def signing_key_from(seed_b64: str) -> Ed25519PrivateKey:
    """The audit signing key of a base64 32-byte seed (`READMIT_AUDIT_SIGNING_KEY`)."""
    try:
        return encoding.signing_key_from(seed_b64)
    except KeyEncodingError as error:
        raise BundleError(
            f"the audit signing key is not a base64 32-byte Ed25519 seed ({error})"
        ) from None


def public_key_from(text: str) -> Ed25519PublicKey:
    try:
        return encoding.public_key_from(text)
    except KeyEncodingError as error:
        raise BundleError(f"the public key is not a base64 32-byte Ed25519 key ({error})") from None


def _jsonl(items: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(
        json.dumps(i, ensure_ascii=False, sort_keys=True, default=str).encode() + b"\n"
        for i in items
    )


def write_bundle(
    out: Path, cases: Sequence[CaseFiles], key: Ed25519PrivateKey, exported_by: str
) -> Path:
    """Write the bundle into `out` (created; must be empty) and sign its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise BundleError(f"{out} is not empty")
    os.chmod(out, PRIVATE_DIR)
    digests: dict[str, str] = {}
    for case in cases:
        files = {
            f"cases/{case.case_id}/events.jsonl": _jsonl(event_line(e) for e in case.events),
            f"cases/{case.case_id}/terms.json": json.dumps(
                case.terms, ensure_ascii=False, sort_keys=True, indent=1
            ).encode(),
            f"cases/{case.case_id}/disclosures.jsonl": _jsonl(case.disclosures),
            f"cases/{case.case_id}/personal.json": json.dumps(
                case.personal, ensure_ascii=False, sort_keys=True, indent=1, default=str
            ).encode(),
        }
        for name, content in files.items():
            _write_private(out, name, content)
            digests[name] = hashlib.sha256(content).hexdigest()
    manifest = json.dumps(
        {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "exported_by": exported_by,
            "cases": [c.case_id for c in cases],
            "files": digests,
            "public_key": public_key_text(key),
        },
        sort_keys=True,
        indent=1,
    ).encode()
    _write_private(out, "manifest.json", manifest)
    _write_private(out, "manifest.sig", base64.b64encode(key.sign(manifest)) + b"\n")
    return out


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _write_private(root: Path, name: str, content: bytes) -> None:
    """Write a new file `name` under `root`, 0600 in directories 0700 whatever the umask (which
    only takes bits away, so each mode is set again after creation); never through a link."""
    path = root / name
    folder = root
    for part in PurePosixPath(name).parent.parts:
        folder = folder / part
        if not folder.is_dir():
            folder.mkdir(mode=PRIVATE_DIR)
            os.chmod(folder, PRIVATE_DIR)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)
        handle.write(content)


@dataclass
class BundleReport:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def check_bundle(directory: Path, public_key: Ed25519PublicKey) -> BundleReport:
    """Verify a bundle offline; every problem found is reported, not just the first."""
    report = BundleReport()
    root = directory.resolve()
    try:
        manifest_bytes = _inside(root, "manifest.json").read_bytes()
        signature_text = _inside(root, "manifest.sig").read_bytes()
    except OSError as error:
        raise BundleError(f"{directory}: not a readable bundle ({error})") from error
    try:
        signature = base64.b64decode(signature_text.strip(), validate=True)
        public_key.verify(signature, manifest_bytes)
    except (InvalidSignature, ValueError):
        report.fail("manifest.json: the signature does not match (changed, or another key)")
    try:
        manifest = json.loads(manifest_bytes)
        files: dict[str, str] = dict(manifest["files"])
        report.cases = list(manifest["cases"])
    except (ValueError, KeyError, TypeError) as error:
        raise BundleError(f"manifest.json is not a bundle manifest ({error})") from error
    # Every path the manifest names is confined to the bundle before anything is opened.
    paths = {name: _inside(root, name) for name in files}
    for case_id in report.cases:
        if not isinstance(case_id, str) or "/" in case_id or "\\" in case_id:
            raise BundleError(f"manifest.json names a case {case_id!r} that is not a folder name")
        _inside(root, f"cases/{case_id}")
    present, links = _tree(root)
    for link in links:
        report.fail(f"{link}: a symbolic link, not a file of the bundle")
    for extra in sorted(present - set(files) - {"manifest.json", "manifest.sig"}):
        report.fail(f"{extra}: not listed in the manifest")
    for name, digest in sorted(files.items()):
        path = paths[name]
        if name in links:
            continue
        if not path.is_file():
            report.fail(f"{name}: missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            report.fail(f"{name}: its SHA-256 differs from the manifest's")
    for case_id in report.cases:
        _check_case(root, case_id, report)
    return report


def _inside(root: Path, name: str) -> Path:
    """The path of `name`, a manifest's relative POSIX path, in the bundle at `root` (resolved).

    Raises BundleError for an absolute path, a `..` step, a Windows drive or backslash, or a
    symbolic link on the way that leads out of the bundle.
    """
    pure = PurePosixPath(name)
    if (
        not name
        or pure.is_absolute()
        or "\\" in name
        or PureWindowsPath(name).drive
        or any(part in ("..", ".") for part in name.split("/"))
    ):
        raise BundleError(f"manifest.json names {name!r}, a path outside the bundle")
    path = root.joinpath(*pure.parts)
    if not path.resolve().is_relative_to(root):
        raise BundleError(f"{name}: a symbolic link leading outside the bundle")
    return path


def _tree(root: Path) -> tuple[set[str], set[str]]:
    """(files, symbolic links) under `root` as relative POSIX paths; links are not followed,
    and one leading out of the bundle raises BundleError."""
    files: set[str] = set()
    links: set[str] = set()
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        for entry in (*dirnames, *filenames):
            path = Path(folder, entry)
            name = path.relative_to(root).as_posix()
            if path.is_symlink():
                if not path.resolve().is_relative_to(root):
                    raise BundleError(f"{name}: a symbolic link leading outside the bundle")
                links.add(name)
            elif entry in filenames:
                files.add(name)
    return files, links


def _check_case(root: Path, case_id: str, report: BundleReport) -> None:
    try:
        events_file = _inside(root, f"cases/{case_id}/events.jsonl")
        terms_file = _inside(root, f"cases/{case_id}/terms.json")
        if events_file.is_symlink() or terms_file.is_symlink():
            raise OSError("a symbolic link")
        lines = events_file.read_text(encoding="utf-8").splitlines()
        events = [event_from_line(json.loads(line)) for line in lines if line]
        terms = json.loads(terms_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as error:
        report.fail(f"{case_id}: unreadable ({type(error).__name__}: {error})")
        return
    if any(e.stream_id != case_id for e in events):
        report.fail(f"{case_id}: events.jsonl holds events of another case")
    result = verify_chain(case_id, events)
    if not result.ok:
        report.fail(
            f"{case_id}: hash chain broken at version {result.first_broken_version}: "
            f"{result.reason}"
        )
    opened = next((e for e in events if e.type == "CaseOpened"), None)
    if opened is None or opened.data.get("terms") != terms:
        report.fail(f"{case_id}: terms.json is not the terms the case was opened under")
