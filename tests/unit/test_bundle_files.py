"""Audit bundles on disk: `check-bundle` reads nothing outside the bundle, and the files holding
personal data are readable by their owner only, whatever the umask."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from adapters.audit.bundle import BundleError, CaseFiles, check_bundle, write_bundle
from readmit.cli.main import app

CASE_ID = "PL-UA-2027-000001"
PERSON = {"erased": False, "person": {"surname": "Shevchenko", "given_names": "Olena"}}


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def bundle(tmp_path: Path, key: Ed25519PrivateKey) -> Path:
    case = CaseFiles(CASE_ID, events=[], terms={}, disclosures=[], personal=PERSON)
    return write_bundle(tmp_path / "bundle", [case], key, "audit.pl")


def resign(bundle: Path, key: Ed25519PrivateKey, **changes: object) -> None:
    """Change the manifest and sign it again, as whoever holds the key could."""
    manifest = json.loads((bundle / "manifest.json").read_bytes()) | changes
    data = json.dumps(manifest, sort_keys=True, indent=1).encode()
    (bundle / "manifest.json").write_bytes(data)
    (bundle / "manifest.sig").write_text(base64.b64encode(key.sign(data)).decode() + "\n")


def files_named(bundle: Path) -> dict[str, str]:
    files: dict[str, str] = json.loads((bundle / "manifest.json").read_bytes())["files"]
    return files


# --- confinement ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../outside.txt", "cases/../../outside.txt"])
def test_a_manifest_naming_a_path_above_the_bundle_is_refused(
    bundle: Path, key: Ed25519PrivateKey, name: str
) -> None:
    outside = bundle.parent / "outside.txt"
    outside.write_text("not the auditor's to read")
    digest = files_named(bundle)
    digest[name] = "0" * 64
    resign(bundle, key, files=digest)
    with pytest.raises(BundleError, match="outside the bundle"):
        check_bundle(bundle, key.public_key())


def test_a_manifest_naming_an_absolute_path_is_refused(
    bundle: Path, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    secret = tmp_path / "elsewhere.json"
    secret.write_text("{}")
    resign(bundle, key, files=files_named(bundle) | {str(secret): "0" * 64})
    with pytest.raises(BundleError, match="outside the bundle"):
        check_bundle(bundle, key.public_key())


@pytest.mark.parametrize(
    ("case_id", "reason"), [("../..", "not a folder name"), ("..", "outside the bundle")]
)
def test_a_case_id_climbing_out_of_cases_is_refused(
    bundle: Path, key: Ed25519PrivateKey, case_id: str, reason: str
) -> None:
    resign(bundle, key, cases=[CASE_ID, case_id])
    with pytest.raises(BundleError, match=reason):
        check_bundle(bundle, key.public_key())


def test_a_symbolic_link_leading_out_of_the_bundle_is_refused(
    bundle: Path, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(PERSON))
    personal = bundle / "cases" / CASE_ID / "personal.json"
    content = personal.read_bytes()
    personal.unlink()
    personal.symlink_to(outside)
    outside.write_bytes(content)  # the digest even matches
    with pytest.raises(BundleError, match="symbolic link leading outside"):
        check_bundle(bundle, key.public_key())


def test_a_linked_folder_leading_out_of_the_bundle_is_refused(
    bundle: Path, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (bundle / "cases" / CASE_ID).rename(elsewhere)
    (bundle / "cases" / CASE_ID).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(BundleError, match="symbolic link leading outside"):
        check_bundle(bundle, key.public_key())


def test_a_link_inside_the_bundle_is_reported_not_followed(
    bundle: Path, key: Ed25519PrivateKey
) -> None:
    terms = bundle / "cases" / CASE_ID / "terms.json"
    (bundle / "cases" / CASE_ID / "copy.json").symlink_to(terms)
    report = check_bundle(bundle, key.public_key())
    assert f"cases/{CASE_ID}/copy.json: a symbolic link, not a file of the bundle" in (
        report.problems
    )


def test_check_bundle_command_names_the_escape_on_one_line_and_fails(
    bundle: Path, key: Ed25519PrivateKey
) -> None:
    resign(bundle, key, files=files_named(bundle) | {"../x": "0" * 64})
    public = base64.b64encode(key.public_key().public_bytes_raw()).decode()
    result = CliRunner().invoke(app, ["audit", "check-bundle", str(bundle), "--public-key", public])
    assert result.exit_code != 0
    [line] = result.stderr.splitlines()
    assert line == "readmit: manifest.json names '../x', a path outside the bundle"


# --- permissions ------------------------------------------------------------------------------


@pytest.fixture(params=[0o000, 0o022, 0o002])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_bundle_files_are_private_whatever_the_umask(
    umask: int, tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    case = CaseFiles(CASE_ID, events=[], terms={}, disclosures=[], personal=PERSON)
    out = write_bundle(tmp_path / "private", [case], key, "audit.pl")
    modes = {
        p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in [out, *out.rglob("*")]
    }
    assert modes[f"private/cases/{CASE_ID}/personal.json"] == 0o600
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (tmp_path / name).is_dir() else 0o600)
    }
    assert not wrong, f"umask {umask:03o}: {wrong}"


def test_an_existing_empty_folder_becomes_private(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    out = tmp_path / "given"
    out.mkdir(mode=0o755)
    os.chmod(out, 0o755)
    write_bundle(out, [], key, "audit.pl")
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
