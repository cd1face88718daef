"""The files and names of `readmit run --federated` (readmit/cli/federation.py): a node's key
set is `readmit keys init`'s, made once, private, and read back as the node's settings; a node's
database sits beside the server's; `readmit token --node` signs with that node's secret only."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from adapters.federation.identity import NodeIdentity
from adapters.keys import jwt_secret, master_keyring
from adapters.settings import Settings, get_settings
from readmit.cli.federation import (
    NodeSetupError,
    demo_officers,
    demo_registry_rows,
    ensure_key_set,
    key_set_file,
    node_database,
    node_settings,
    read_key_set,
)
from readmit.cli.main import app

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def test_a_node_key_set_is_made_once_and_kept_private(tmp_path: Path) -> None:
    made = ensure_key_set(tmp_path, "UA", NOW)
    path = key_set_file(tmp_path, "UA")
    assert path == tmp_path / "nodes" / "UA" / "keys.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_key_set(tmp_path, "UA", NOW) == made == read_key_set(path)
    assert "READMIT_ENV" not in made  # `readmit run` stays the development mode
    assert made["READMIT_JWT_SECRET"] != ensure_key_set(tmp_path, "PL", NOW)["READMIT_JWT_SECRET"]


def test_node_settings_carry_the_nodes_keys_home_and_port(tmp_path: Path) -> None:
    base = Settings(home=tmp_path, api_port=9100)
    settings, identity = node_settings(base, "UA", 1, NOW)
    assert settings.home == tmp_path / "nodes" / "UA"
    assert (settings.api_port, settings.node_state) == (9101, "UA")
    assert settings.node_url == identity.url == "http://127.0.0.1:9101"
    assert settings.node_keys_file == tmp_path / "nodes" / "UA" / "node-keys.json"
    assert NodeIdentity.load(settings.node_keys_file).signing_kid == identity.signing_kid
    assert jwt_secret(settings) == read_key_set(key_set_file(tmp_path, "UA"))["READMIT_JWT_SECRET"]
    master_keyring(settings)  # the key set's master key, not a dev key under home
    assert not (settings.home / "keys.json").exists()
    # a second start keeps the keys; another port moves the URL, not the keys
    again, same = node_settings(base.model_copy(update={"api_port": 9200}), "UA", 1, NOW)
    assert same.signing_kid == identity.signing_kid and same.url == "http://127.0.0.1:9201"
    assert jwt_secret(again) == jwt_secret(settings)


def test_an_unreadable_key_set_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(NodeSetupError, match="readmit run --federated"):
        read_key_set(tmp_path / "keys.env")
    (tmp_path / "keys.env").write_text("SECRET\n")
    with pytest.raises(NodeSetupError, match=r"keys\.env:1: not a READMIT_NAME=value line"):
        read_key_set(tmp_path / "keys.env")


@pytest.mark.parametrize(
    ("server", "node"),
    [
        (
            "postgresql://postgres@/readmit?host=/tmp/pg&port=5432",
            "postgresql://postgres@/readmit_node_ua?host=/tmp/pg&port=5432",
        ),
        (
            "postgresql://owner:pw@db.example:5432/readmit_dev",
            "postgresql://owner:pw@db.example:5432/readmit_dev_node_ua",
        ),
        ("postgresql://owner@db.example", "postgresql://owner@db.example/readmit_node_ua"),
    ],
)
def test_a_nodes_database_sits_beside_the_servers(server: str, node: str) -> None:
    assert node_database(server, "UA") == node


def test_a_node_gets_only_its_own_states_demo_data(tmp_path: Path) -> None:
    assert {o.state for o in demo_officers("UA")} == {"UA"}
    assert "olena.ua" in {o.user_id for o in demo_officers("UA")}
    rows = demo_registry_rows("UA", tmp_path / "ua.csv").read_text().splitlines()
    assert rows[0].startswith("state,") and len(rows) > 1
    assert all(line.startswith("UA,") for line in rows[1:])


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("READMIT_HOME", str(tmp_path))
    monkeypatch.delenv("READMIT_JWT_SECRET", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_token_node_signs_with_that_nodes_secret(home: Path) -> None:
    args = ["token", "--user", "olena.ua", "--role", "officer", "--state", "UA", "--node", "UA"]
    missing = CliRunner().invoke(app, args)
    assert missing.exit_code == 2 and "readmit run --federated" in missing.stderr
    secrets = {s: ensure_key_set(home, s, NOW)["READMIT_JWT_SECRET"] for s in ("PL", "UA")}
    minted = CliRunner().invoke(app, args)
    assert minted.exit_code == 0, minted.output
    token = minted.stdout.strip()
    assert jwt.decode(token, secrets["UA"], algorithms=["HS256"])["sub"] == "olena.ua"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, secrets["PL"], algorithms=["HS256"])
    bad = CliRunner().invoke(app, [*args[:-1], "Ukraine"])
    assert bad.exit_code == 2 and "two capital letters" in bad.stderr
