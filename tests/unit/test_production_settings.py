"""Production mode's one check (`adapters.production`): every missing or weak secret named in
one line, never a generated key, and a `readmit keys init` set that passes it."""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values
from typer.testing import CliRunner

from adapters.keys import (
    audit_signing_seed,
    command_signing_seed,
    jwt_secret,
    master_keyring,
    payload_keyring,
)
from adapters.production import (
    API,
    WORKER,
    ProductionSettingsError,
    problems,
    production_by_default,
    require_production,
    worker_needs,
)
from adapters.settings import ConfigurationError, Settings, get_settings
from adapters.temporal.codec import Keyring
from api.app import create_app
from readmit.cli.main import app

EVERY_SECRET = [
    "DATABASE_URL",
    "READMIT_TEMPORAL_ADDRESS",
    "READMIT_PAYLOAD_KEYS",
    "READMIT_PAYLOAD_KEY_ID",
    "READMIT_MASTER_KEYS",
    "READMIT_MASTER_KEY_ID",
    "READMIT_JWT_SECRET",
    "READMIT_AUDIT_SIGNING_KEY",
    "READMIT_COMMAND_SIGNING_KEY",
    "READMIT_SEARCH_KEY",
    "READMIT_METRICS_TOKEN",
]


def seed() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def strong(**changes: Any) -> Settings:
    """Production settings with every secret set and strong, then `changes`."""
    values: dict[str, Any] = {
        "env": "production",
        "database_url": "postgresql://readmit@db:5432/readmit",
        "temporal_address": "temporal:7233",
        "payload_keys": {"2027-01": Keyring.new_key()},
        "payload_key_id": "2027-01",
        "master_keys": {"m-2027-01": Keyring.new_key()},
        "master_key_id": "m-2027-01",
        "jwt_secret": "a-service-token-secret-of-48-characters-0123456789",
        "audit_signing_key": seed(),
        "command_signing_key": seed(),
        "search_key": seed(),
        "metrics_token": "a-scrape-secret-of-more-than-32-characters-0123",
    }
    return Settings(_env_file=None, **(values | changes))


def named(settings: Settings) -> list[str]:
    return [problem.split(" ", 1)[0] for problem in problems(settings, API)]


@pytest.fixture(autouse=True)
def no_readmit_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*os.environ]:
        if name.startswith("READMIT_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)


def test_strong_production_settings_pass() -> None:
    require_production(strong(), API)
    assert problems(strong(), API) == []


def test_every_missing_secret_is_named_in_one_line(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, env="production", home=tmp_path)
    with pytest.raises(ProductionSettingsError) as raised:
        require_production(settings, API)
    message = str(raised.value)
    assert "\n" not in message
    assert [p.split(" ", 1)[0] for p in raised.value.problems] == EVERY_SECRET
    assert all(name in message for name in EVERY_SECRET)
    assert "readmit keys init" in message


def test_workers_need_no_token_secret() -> None:
    assert problems(strong(jwt_secret=None), WORKER) == []
    assert named(strong(jwt_secret=None)) == ["READMIT_JWT_SECRET"]


def test_workers_may_hold_only_the_public_keys_of_command_signatures() -> None:
    """A worker checks signatures; it need not be able to make them (public keys only)."""
    public = base64.b64encode(os.urandom(32)).decode()
    only_public = strong(command_signing_key=None, command_verify_keys=(public,))
    assert problems(only_public, WORKER) == []
    assert named(only_public) == ["READMIT_COMMAND_SIGNING_KEY"]  # the API signs: it needs it
    weak = strong(command_signing_key=None, command_verify_keys=("c2hvcnQ=",))
    assert [p.split(" ", 1)[0] for p in problems(weak, WORKER)] == ["READMIT_COMMAND_VERIFY_KEYS"]
    none = strong(command_signing_key=None)
    assert [p.split(" ", 1)[0] for p in problems(none, WORKER)] == ["READMIT_COMMAND_SIGNING_KEY"]


def test_each_worker_needs_only_the_keys_of_what_it_serves() -> None:
    """Least authority: a state-queue worker holds no command key and no audit key; the case
    worker needs the verify keys, and the audit key only when checkpoints go somewhere."""
    bare = strong(command_signing_key=None, audit_signing_key=None)
    state_only = worker_needs(bare, serves_cases=False)
    assert state_only == {"payload", "master", "services"}
    assert problems(bare, state_only) == []
    cases = worker_needs(bare, serves_cases=True)
    assert cases == {"payload", "master", "services", "verify", "search"}
    assert [p.split(" ", 1)[0] for p in problems(bare, cases)] == ["READMIT_COMMAND_SIGNING_KEY"]
    public = base64.b64encode(os.urandom(32)).decode()
    assert problems(bare.model_copy(update={"command_verify_keys": (public,)}), cases) == []
    for sink in (
        {"audit_checkpoint_dir": Path("/var/checkpoints")},
        {"audit_checkpoint_webhook_url": "https://anchor.example/in"},
    ):
        sunk = bare.model_copy(update={"command_verify_keys": (public,), **sink})
        needs = worker_needs(sunk, serves_cases=True)
        assert "audit" in needs
        assert [p.split(" ", 1)[0] for p in problems(sunk, needs)] == ["READMIT_AUDIT_SIGNING_KEY"]
        assert "audit" not in worker_needs(sunk, serves_cases=False)


def test_a_bad_command_signing_key_stops_the_app_before_it_serves(tmp_path: Path) -> None:
    """Finding: the signer was made when the services were built, so a bad key left the API
    up and 503 for ever; now it is one line (exit 2) from `create_app`."""
    settings = Settings(
        _env_file=None, env="development", home=tmp_path, command_signing_key="bm90IGEga2V5"
    )
    with pytest.raises(ConfigurationError, match="READMIT_COMMAND_SIGNING_KEY") as raised:
        create_app(settings)
    assert "\n" not in str(raised.value) and "bm90IGEga2V5" not in str(raised.value)


@pytest.mark.parametrize(
    ("changes", "variable", "why"),
    [
        ({"payload_keys": {"2027-01": "c2hvcnQ="}}, "READMIT_PAYLOAD_KEYS", "5 bytes, not 32"),
        ({"payload_keys": {"2027-01": "not base64!"}}, "READMIT_PAYLOAD_KEYS", "not base64"),
        ({"payload_keys": {"2027-01": "A" * 43}}, "READMIT_PAYLOAD_KEYS", "one byte repeated"),
        (
            {"payload_keys": {"dev-1": Keyring.new_key()}, "payload_key_id": "dev-1"},
            "READMIT_PAYLOAD_KEYS",
            "development key id 'dev-1'",
        ),
        (
            {"master_keys": {"dev-master-1": Keyring.new_key()}, "master_key_id": "dev-master-1"},
            "READMIT_MASTER_KEYS",
            "development key id",
        ),
        ({"payload_key_id": "2026-12"}, "READMIT_PAYLOAD_KEY_ID", "names no key"),
        ({"jwt_secret": "secret"}, "READMIT_JWT_SECRET", "shorter than 32 bytes"),
        ({"jwt_secret": "ab" * 20}, "READMIT_JWT_SECRET", "fewer than 8 different"),
        ({"audit_signing_key": "c2hvcnQ="}, "READMIT_AUDIT_SIGNING_KEY", "5 bytes"),
        ({"command_signing_key": "x" * 10}, "READMIT_COMMAND_SIGNING_KEY", "bytes, not 32"),
    ],
)
def test_weak_secrets_are_named_with_why(changes: dict[str, Any], variable: str, why: str) -> None:
    found = problems(strong(**changes), API)
    assert any(p.startswith(variable) and why in p for p in found), found


def test_one_key_serving_as_payload_and_master_key_is_weak() -> None:
    key = Keyring.new_key()
    same = strong(payload_keys={"p": key}, payload_key_id="p", master_keys={"m": key})
    found = problems(same.model_copy(update={"master_key_id": "m"}))
    assert found == ["READMIT_MASTER_KEYS (a key also in READMIT_PAYLOAD_KEYS)"]


def test_identity_provider_tokens_need_issuer_audience_and_https() -> None:
    rs256 = strong(jwt_algorithms=("RS256",), jwt_secret=None)
    assert named(rs256) == ["READMIT_JWKS_URL", "READMIT_JWT_ISSUER", "READMIT_JWT_AUDIENCE"]
    over_http = strong(
        jwt_algorithms=("RS256",),
        jwks_url="http://idp.example/certs",
        jwt_issuer="https://idp.example",
        jwt_audience="readmit",
    )
    assert problems(over_http) == ["READMIT_JWKS_URL (not https)"]
    local = over_http.model_copy(update={"jwks_url": "http://127.0.0.1:9000/certs"})
    assert problems(local) == []
    hs256_only = strong(jwt_algorithms=("HS256",))
    assert problems(hs256_only) == []  # service tokens alone need no provider


def test_no_secret_value_is_ever_in_the_message() -> None:
    secret = "s3cr3t"
    found = problems(strong(jwt_secret=secret, audit_signing_key=secret), API)
    assert found and not any(secret in p for p in found)


def test_production_never_generates_a_key(tmp_path: Path) -> None:
    """Finding 2: a process without keys made its own under home, silently, so containers
    disagreed. In production every accessor refuses instead, and nothing is written."""
    settings = Settings(_env_file=None, env="production", home=tmp_path)
    accessors = [
        payload_keyring,
        master_keyring,
        jwt_secret,
        audit_signing_seed,
        command_signing_seed,
    ]
    for accessor in accessors:
        with pytest.raises(ProductionSettingsError):
            accessor(settings)
    assert list(tmp_path.iterdir()) == []


def test_production_hands_out_the_configured_keys(tmp_path: Path) -> None:
    settings = strong(home=tmp_path)
    assert payload_keyring(settings).active == "2027-01"
    assert master_keyring(settings).active == "m-2027-01"
    assert command_signing_seed(settings) == settings.command_signing_key
    assert audit_signing_seed(settings) == settings.audit_signing_key
    assert jwt_secret(settings) == settings.jwt_secret
    assert list(tmp_path.iterdir()) == []


def test_development_makes_a_command_signing_key_once(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, home=tmp_path)
    first = command_signing_seed(settings)
    assert len(base64.b64decode(first)) == 32
    assert command_signing_seed(settings) == first
    kept = json.loads((tmp_path / "keys.json").read_text())
    assert kept["command_signing_key"] == first


def test_api_and_worker_commands_default_to_production() -> None:
    assert production_by_default(Settings(_env_file=None)).production
    development = Settings(_env_file=None, env="development")
    assert not production_by_default(development).production


def test_keys_init_prints_a_set_that_passes_the_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["keys", "init"])
    assert result.exit_code == 0, result.output
    env_file = tmp_path / ".env"
    env_file.write_text(result.stdout)
    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    assert values["READMIT_ENV"] == "production"
    made = Settings(
        _env_file=env_file,
        database_url="postgresql://readmit@db:5432/readmit",
        temporal_address="temporal:7233",
    )
    assert made.production and problems(made, API) == []
    assert made.payload_key_id and made.payload_key_id in made.payload_keys
    assert made.master_key_id and made.master_key_id in made.master_keys
    assert made.payload_key_id != made.master_key_id
    again = dotenv_values(stream=io.StringIO(CliRunner().invoke(app, ["keys", "init"]).stdout))
    assert again["READMIT_PAYLOAD_KEYS"] != values["READMIT_PAYLOAD_KEYS"]  # fresh each time
    assert again["READMIT_JWT_SECRET"] != values["READMIT_JWT_SECRET"]


def test_keys_init_refuses_where_keys_are_already_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READMIT_MASTER_KEYS", json.dumps({"m": Keyring.new_key()}))
    get_settings.cache_clear()
    try:
        refused = CliRunner().invoke(app, ["keys", "init"])
        forced = CliRunner().invoke(app, ["keys", "init", "--force"])
    finally:
        get_settings.cache_clear()
    assert refused.exit_code == 1 and "already set" in refused.output
    assert forced.exit_code == 0 and "READMIT_MASTER_KEYS=" in forced.stdout


def test_a_federated_node_in_production_is_reached_over_https() -> None:
    """A node's peers post to its URL: production refuses plain http, even on loopback, and an
    unset URL; a single installation has no such setting to check."""
    assert problems(strong(), API) == []
    for url, why in ((None, "unset"), ("http://127.0.0.1:8000", "not https")):
        node = strong(node_state="PL", node_url=url)
        found = [p for p in problems(node, API) if p.startswith("READMIT_NODE_URL")]
        assert len(found) == 1 and why in found[0], found
        assert "node" in worker_needs(node, serves_cases=True)
        assert "node" not in worker_needs(node, serves_cases=False)
    assert problems(strong(node_state="PL", node_url="https://pl.readmit.example"), API) == []


def test_a_reply_approval_rule_naming_no_agreement_stops_the_app(tmp_path: Path) -> None:
    """A typo in READMIT_REPLY_APPROVAL (`EU-UAA`) would silently never apply: the app refuses
    to start, naming the rule."""
    settings = Settings(
        _env_file=None, env="development", home=tmp_path, reply_approval="PL:EU-UA,UA:EU-UAA"
    )
    with pytest.raises(ConfigurationError, match="UA:EU-UAA") as raised:
        create_app(settings)
    assert "PL:EU-UA" not in str(raised.value)
    create_app(settings.model_copy(update={"reply_approval": "PL:EU-UA,UA:*"}))
