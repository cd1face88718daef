"""A node's identity (adapters/federation/identity.py): its keys survive the key file, their
ids are RFC 7638 thumbprints, the file is private and never silently replaced, and the
descriptor refuses what would let one key pass for another."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc.jwk import OKPKey
from pydantic import ValidationError

from adapters.federation.identity import (
    IdentityError,
    KeyFileExists,
    NodeDescriptor,
    NodeIdentity,
    NodeKey,
    default_keys_file,
    thumbprint,
)
from adapters.settings import Settings

AT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def rfc7638(crv: str, x: str) -> str:
    """The thumbprint written out as RFC 7638 section 3 says, without joserfc."""
    members = json.dumps({"crv": crv, "kty": "OKP", "x": x}, separators=(",", ":"))
    digest = hashlib.sha256(members.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_the_key_ids_are_rfc_7638_thumbprints() -> None:
    identity = NodeIdentity.create("PL", "https://readmit.gov.pl")
    descriptor = identity.descriptor(AT)
    sig, enc = descriptor.keys_for("sig")[0], descriptor.keys_for("enc")[0]
    assert sig.kid == identity.signing_kid == rfc7638("Ed25519", sig.x)
    assert enc.kid == identity.encryption_kid == rfc7638("X25519", enc.x)
    assert sig.kid == OKPKey.import_key(identity.signing_key).thumbprint()
    assert enc.kid == OKPKey.import_key(identity.encryption_key).thumbprint()
    assert (sig.crv, enc.crv) == ("Ed25519", "X25519")


def test_rfc_8037_example_thumbprint() -> None:
    """RFC 8037 appendix A.3: the thumbprint of its example Ed25519 public key."""
    raw = base64.urlsafe_b64decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    public = Ed25519PublicKey.from_public_bytes(raw)
    assert thumbprint(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_round_trip_through_the_key_file(tmp_path: Path) -> None:
    identity = NodeIdentity.create("UA", "http://127.0.0.1:8001/", now=AT)
    path = identity.save(tmp_path / "nodes" / "UA" / "node-keys.json")
    loaded = NodeIdentity.load(path)
    assert (loaded.state, loaded.url, loaded.created_at) == ("UA", "http://127.0.0.1:8001", AT)
    assert loaded.signing_kid == identity.signing_kid
    assert loaded.encryption_kid == identity.encryption_kid
    message = b"readmit"
    identity.signing_key.public_key().verify(loaded.signing_key.sign(message), message)
    assert loaded.descriptor(AT) == identity.descriptor(AT)
    assert NodeDescriptor.model_validate_json(loaded.descriptor(AT).to_json()) == loaded.descriptor(
        AT
    )


def test_the_key_file_is_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        path = NodeIdentity.create("PL", "https://pl.example").save(tmp_path / "a" / "keys.json")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["keys.json"]  # no partial file left


def test_an_existing_key_file_is_replaced_only_when_forced(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first = NodeIdentity.create("PL", "https://pl.example")
    first.save(path)
    second = NodeIdentity.create("PL", "https://pl.example")
    with pytest.raises(KeyFileExists, match="--force"):
        second.save(path)
    assert NodeIdentity.load(path).signing_kid == first.signing_kid
    second.save(path, force=True)
    assert NodeIdentity.load(path).signing_kid == second.signing_kid


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    path = NodeIdentity.create("PL", "https://pl.example").save(tmp_path / "keys.json")
    path.chmod(0o644)
    with pytest.raises(IdentityError, match="chmod 600"):
        NodeIdentity.load(path)


def test_a_damaged_key_file_is_refused_without_quoting_keys(tmp_path: Path) -> None:
    identity = NodeIdentity.create("PL", "https://pl.example")
    document = json.loads(identity.to_json())
    other = json.loads(NodeIdentity.create("PL", "https://pl.example").to_json())
    document["keys"][0]["x"] = other["keys"][0]["x"]  # a public half not of this private key
    path = tmp_path / "keys.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)
    with pytest.raises(IdentityError) as refused:
        NodeIdentity.load(path)
    assert document["keys"][0]["d"] not in str(refused.value)
    path.write_text("{}")
    with pytest.raises(IdentityError, match="not a node key file"):
        NodeIdentity.load(path)
    with pytest.raises(IdentityError, match="no node key file"):
        NodeIdentity.load(tmp_path / "missing.json")


@pytest.mark.parametrize("state", ["pl", "P", "POL", "P1", ""])
def test_a_bad_state_is_refused(state: str) -> None:
    with pytest.raises(IdentityError, match="two capital letters"):
        NodeIdentity.create(state, "https://pl.example")


@pytest.mark.parametrize(
    "url", ["http://pl.example", "ftp://pl.example", "pl.example", "https://", "http://10.0.0.1"]
)
def test_a_bad_url_is_refused(url: str) -> None:
    with pytest.raises(IdentityError, match="https"):
        NodeIdentity.create("PL", url)


@pytest.mark.parametrize("url", ["https://pl.example", "http://localhost:8000", "http://[::1]:1"])
def test_https_or_loopback_urls_are_taken(url: str) -> None:
    assert NodeIdentity.create("PL", url).url == url


def test_the_descriptor_refuses_a_key_id_that_is_not_its_keys() -> None:
    document = json.loads(NodeIdentity.create("PL", "https://pl.example").descriptor(AT).to_json())
    other = NodeIdentity.create("UA", "https://ua.example").descriptor(AT)
    document["keys"][0]["kid"] = other.keys[0].kid
    with pytest.raises(ValidationError, match="thumbprint"):
        NodeDescriptor.model_validate(document)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["keys"].pop(), "at least 2"),
        (lambda d: d["keys"].__setitem__(1, d["keys"][0]), "twice"),
        (lambda d: d.__setitem__("state", "Pl"), "pattern"),
        (lambda d: d.__setitem__("url", "http://pl.example"), "https"),
        (lambda d: d.__setitem__("issued_at", "2027-01-04T09:00:00"), "timezone"),
        (lambda d: d.__setitem__("typ", "readmit.node/2"), "readmit.node/1"),
        (lambda d: d["keys"][0].__setitem__("use", "enc"), "must be X25519"),
        (lambda d: d["keys"][0].__setitem__("x", "AAAA"), "32-byte"),
        (lambda d: d.__setitem__("extra", 1), "Extra inputs"),
    ],
)
def test_the_descriptor_refuses_what_it_cannot_vouch_for(change: object, problem: str) -> None:
    document = json.loads(NodeIdentity.create("PL", "https://pl.example").descriptor(AT).to_json())
    assert callable(change)
    change(document)
    with pytest.raises(ValidationError, match=problem):
        NodeDescriptor.model_validate(document)


def test_a_descriptor_needs_a_signing_and_an_encryption_key() -> None:
    a, b = NodeIdentity.create("PL", "https://a.example"), NodeIdentity.create("PL", "https://b")
    both_sig = (NodeKey.of(a.signing_key.public_key()), NodeKey.of(b.signing_key.public_key()))
    with pytest.raises(ValidationError, match="no 'enc' key"):
        NodeDescriptor(state="PL", url="https://pl.example", keys=both_sig, issued_at=AT)


def test_settings_name_the_key_file_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, node_state="PL")
    assert settings.node_keys_path() == default_keys_file(tmp_path, "PL")
    assert settings.node_keys_path() == tmp_path / "nodes" / "PL" / "node-keys.json"
    assert Settings(home=tmp_path).node_keys_path() is None
    assert Settings(node_keys_file=tmp_path / "k.json").node_keys_path() == tmp_path / "k.json"
    with pytest.raises(ValidationError):
        Settings(node_url="http://pl.example")
    with pytest.raises(ValidationError):
        Settings(node_state="pl")


def test_a_rotation_keeps_the_old_encryption_key_for_the_overlap(tmp_path: Path) -> None:
    """A node's new keys: the old encryption key still opens what peers built to it, until the
    overlap ends, and the key file keeps it; an overlap already over is dropped at the next."""
    now = datetime(2027, 3, 1, tzinfo=UTC)
    old = NodeIdentity.create("PL", "https://readmit.gov.pl", now=now)
    new = old.rotated(timedelta(days=14), now=now)
    assert new.signing_kid != old.signing_kid and new.encryption_kid != old.encryption_kid
    assert new.decryption_key(new.encryption_kid, now) is new.encryption_key
    kept = new.decryption_key(old.encryption_kid, now + timedelta(days=13))
    assert kept is not None and thumbprint(kept.public_key()) == old.encryption_kid
    assert new.decryption_key(old.encryption_kid, now + timedelta(days=14)) is None
    assert new.decryption_key(old.signing_kid, now) is None
    path = new.save(tmp_path / "node-keys.json")
    loaded = NodeIdentity.load(path)
    assert loaded.decryption_key(old.encryption_kid, now) is not None
    assert {k.kid for k in loaded.descriptor().keys} == {new.signing_kid, new.encryption_kid}
    later = loaded.rotated(timedelta(days=14), now=now + timedelta(days=20))
    assert [thumbprint(k.public_key()) for k, _ in later.previous] == [new.encryption_kid]
