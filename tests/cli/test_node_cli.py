"""`readmit node` and `readmit peers` as an administrator types them: two nodes' keys made,
one registered as the other's peer, listed, rotated and revoked; bad input is one line and
exit 2, a refusal one line and exit 1."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from adapters.federation.identity import NodeDescriptor, NodeIdentity
from adapters.settings import get_settings
from readmit.cli.main import app


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A READMIT_HOME of the test's own; this node is PL's."""
    home = tmp_path / "home"
    monkeypatch.setenv("READMIT_HOME", str(home))
    monkeypatch.setenv("READMIT_NODE_STATE", "PL")
    for name in ("READMIT_NODE_URL", "READMIT_NODE_KEYS_FILE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def readmit(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def test_node_init_writes_the_keys_and_prints_the_descriptor(home: Path) -> None:
    made = readmit("node", "init", "--state", "PL", "--url", "https://readmit.gov.pl/")
    assert made.exit_code == 0, made.output
    descriptor = NodeDescriptor.model_validate_json(made.stdout)
    path = home / "nodes" / "PL" / "node-keys.json"
    identity = NodeIdentity.load(path)
    assert descriptor.state == "PL" and descriptor.url == "https://readmit.gov.pl"
    assert {k.kid for k in descriptor.keys} == {identity.signing_kid, identity.encryption_kid}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(path) in made.stderr and identity.signing_kid in made.stderr
    assert identity.encryption_kid in made.stderr

    again = readmit("node", "descriptor")
    assert again.exit_code == 0, again.output
    assert NodeDescriptor.model_validate_json(again.stdout).keys == descriptor.keys

    kept = readmit("node", "init", "--state", "PL", "--url", "https://readmit.gov.pl")
    assert kept.exit_code == 1
    assert kept.stderr.strip().endswith("pass --force to replace")
    assert NodeIdentity.load(path).signing_kid == identity.signing_kid
    replaced = readmit("node", "init", "--state", "PL", "--url", "https://pl.example", "--force")
    assert replaced.exit_code == 0, replaced.output
    assert NodeIdentity.load(path).signing_kid != identity.signing_kid


def test_node_rotate_renews_the_keys_and_keeps_the_old_one_to_decrypt(home: Path) -> None:
    made = readmit("node", "init", "--state", "PL", "--url", "https://readmit.gov.pl")
    assert made.exit_code == 0, made.output
    path = home / "nodes" / "PL" / "node-keys.json"
    before = NodeIdentity.load(path)
    rotated = readmit("node", "rotate", "--overlap-days", "14")
    assert rotated.exit_code == 0, rotated.output
    after = NodeIdentity.load(path)
    descriptor = NodeDescriptor.model_validate_json(rotated.stdout)
    assert {k.kid for k in descriptor.keys} == {after.signing_kid, after.encryption_kid}
    assert after.signing_kid != before.signing_kid
    assert after.decryption_key(before.encryption_kid, datetime.now(UTC)) is not None
    assert before.encryption_kid in rotated.stderr and "readmit peers rotate" in rotated.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    refused = readmit("node", "rotate", "--overlap-days", "0")
    assert refused.exit_code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--state", "Poland", "--url", "https://pl.example"], "two capital letters"),
        (["--state", "PL", "--url", "http://pl.example"], "loopback"),
        (["--state", "PL"], "no URL"),
    ],
)
def test_node_init_refuses_bad_input(home: Path, args: list[str], message: str) -> None:
    result = readmit("node", "init", *args)
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr
    assert not (home / "nodes").exists()


def test_node_descriptor_without_keys_says_so(home: Path) -> None:
    result = readmit("node", "descriptor")
    assert result.exit_code == 2
    assert "no node key file" in result.stderr and "readmit node init" in result.stderr


@pytest.mark.db
def test_peers_add_list_rotate_revoke(
    home: Path, tmp_path: Path, database_url: str, db_schema: str
) -> None:
    db = ["--database-url", database_url, "--schema", db_schema]
    ua = readmit(
        "node", "init", "--state", "UA", "--url", "http://127.0.0.1:8001",
        "--keys-file", str(tmp_path / "ua.json"),
    )  # fmt: skip
    assert ua.exit_code == 0, ua.output
    ua_file = tmp_path / "ua-descriptor.json"
    ua_file.write_text(ua.stdout)
    ua_keys = NodeIdentity.load(tmp_path / "ua.json")

    added = readmit("peers", "add", str(ua_file), *db)
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("peer UA registered at http://127.0.0.1:8001")
    twice = readmit("peers", "add", "-", *db, stdin=ua.stdout)
    assert twice.exit_code == 1 and "readmit peers rotate" in twice.stderr

    listed = json.loads(readmit("peers", "list", "--json", *db).stdout)
    assert [(p["state"], p["status"]) for p in listed] == [("UA", "active")]
    assert {(k["kid"], k["status"]) for k in listed[0]["keys"]} == {
        (ua_keys.signing_kid, "active"),
        (ua_keys.encryption_kid, "active"),
    }

    new = readmit(
        "node", "init", "--state", "UA", "--url", "http://127.0.0.1:8001",
        "--keys-file", str(tmp_path / "ua-new.json"),
    )  # fmt: skip
    rotated = readmit("peers", "rotate", "-", "--overlap-days", "2", *db, stdin=new.stdout)
    assert rotated.exit_code == 0, rotated.output
    assert "accepted until" in rotated.stdout and ua_keys.signing_kid in rotated.stdout
    text = readmit("peers", "list", *db).stdout
    assert f"{ua_keys.signing_kid}  retiring until" in text

    one = readmit("peers", "revoke", "UA", "--key", ua_keys.signing_kid, *db)
    assert one.exit_code == 0
    assert one.stdout.strip() == f"key {ua_keys.signing_kid} of peer UA revoked"
    peer = readmit("peers", "revoke", "ua", *db)
    assert peer.exit_code == 0 and peer.stdout.strip() == "peer UA revoked"
    listed = json.loads(readmit("peers", "list", "--json", *db).stdout)
    assert listed[0]["status"] == "revoked"
    assert {k["status"] for k in listed[0]["keys"]} == {"revoked"}

    unknown = readmit("peers", "revoke", "RO", *db)
    assert unknown.exit_code == 1 and unknown.stderr.strip() == "readmit: no peer RO is registered"


@pytest.mark.db
def test_peers_refuse_bad_descriptors_and_the_own_state(
    home: Path, tmp_path: Path, database_url: str, db_schema: str
) -> None:
    db = ["--database-url", database_url, "--schema", db_schema]
    own = readmit("node", "init", "--state", "PL", "--url", "https://pl.example")
    refused = readmit("peers", "add", "-", *db, stdin=own.stdout)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == "readmit: PL is this node's own state, not a peer"

    tampered = json.loads(own.stdout)
    tampered["state"] = "UA"
    tampered["keys"][0]["x"] = tampered["keys"][1]["x"]
    bad = readmit("peers", "add", "-", *db, stdin=json.dumps(tampered))
    assert bad.exit_code == 2 and len(bad.stderr.splitlines()) == 1
    assert "stdin is not a node descriptor" in bad.stderr

    missing = readmit("peers", "add", str(tmp_path / "nothing.json"), *db)
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    not_json = readmit("peers", "rotate", "-", *db, stdin="descriptor?")
    assert not_json.exit_code == 2 and "not a node descriptor" in not_json.stderr
    assert json.loads(readmit("peers", "list", "--json", *db).stdout) == []
