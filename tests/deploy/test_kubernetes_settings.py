"""deploy/kubernetes/'s settings: every variable is a setting; every secret comes from a Secret
object (none written in a manifest, none in the ConfigMap); the API and each worker pass
production's own check (adapters/production.py) with what the manifests give them, and stop
without any one of their secrets; the migration job alone holds the owner's DSN, the API and
the workers the runtime role's."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import yaml
from kubernetes_manifests import (
    KUBERNETES,
    SAMPLE_SECRETS,
    Container,
    config_map,
    container,
    containers,
    named_variables,
    of_kind,
    processes,
    setting_env_names,
)
from pydantic import SecretStr
from worker_options import worker_queues

from adapters.production import API, Part, problems, worker_needs
from adapters.settings import Settings
from readmit.cli.keys import production_key_set

OWNER_SECRET = "readmit-database-owner"


def settings_of(c: Container, monkeypatch: pytest.MonkeyPatch, **extra: str) -> Settings:
    """The settings `c`'s process reads in the cluster (its environment alone, parsed by
    `Settings` itself as the process does), with `extra` variables added."""
    clean(monkeypatch)
    for variable, value in (c.env() | extra).items():
        monkeypatch.setenv(variable, value)
    return Settings(_env_file=None)


def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting from this machine's environment (the tests' DATABASE_URL, say)."""
    for variable in setting_env_names():
        monkeypatch.delenv(variable, raising=False)


def needs_of(c: Container, settings: Settings) -> frozenset[Part]:
    """What production's check asks of `c` (as `readmit api` and `readmit worker` ask it)."""
    if c.args[0] == "api":
        return API
    return worker_needs(settings, serves_cases=worker_queues(c.args).cases)


def ids(c: Container) -> str:
    return c.name


def test_every_variable_is_a_setting() -> None:
    known = setting_env_names()
    for c in containers():
        unknown = set(c.env()) - known - {"READMIT_ENV"} - set(SAMPLE_SECRETS["readmit-keys"])
        assert not unknown, f"{c.name}: not fields of Settings (ignored silently)"
    assert set(config_map("readmit-config")) <= known


SINK = {"READMIT_AUDIT_CHECKPOINT_WEBHOOK_URL": "https://anchor.example.org/checkpoints"}


@pytest.mark.parametrize("sink", [False, True], ids=["no-sink", "checkpoint-sink"])
@pytest.mark.parametrize("c", processes(), ids=ids)
def test_every_process_passes_production_check(
    c: Container, sink: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of(c, monkeypatch, **(SINK if sink else {}))
    assert settings.production
    assert problems(settings, needs_of(c, settings)) == []


def test_production_names_what_the_api_must_be_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """The list comes from production's check, not from this test: what it names for a bare
    production process, each given to the API (its command signing key too)."""
    clean(monkeypatch)
    bare = Settings(_env_file=None, env="production")
    required = named_variables(problems(bare, API))
    assert {"DATABASE_URL", "READMIT_PAYLOAD_KEYS", "READMIT_SEARCH_KEY"} <= required
    api = container("Deployment", "readmit-api")
    assert required <= set(api.env())


@pytest.mark.parametrize("c", [c for c in processes() if c.args[0] == "worker"], ids=ids)
def test_production_names_what_each_worker_must_be_given(
    c: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean(monkeypatch)
    bare = Settings(
        _env_file=None,
        env="production",
        audit_checkpoint_webhook_url=SINK["READMIT_AUDIT_CHECKPOINT_WEBHOOK_URL"],
    )
    required = named_variables(
        problems(bare, worker_needs(bare, serves_cases=worker_queues(c.args).cases))
    )
    # production's check accepts the public verify keys instead of the signing key (`_verify`)
    if "READMIT_COMMAND_SIGNING_KEY" in required:
        required = required - {"READMIT_COMMAND_SIGNING_KEY"} | {"READMIT_COMMAND_VERIFY_KEYS"}
    assert required <= set(c.env())


def secret_variables(c: Container) -> list[str]:
    return sorted(v for v, (_, _, optional) in c.secret_refs().items() if not optional)


@pytest.mark.parametrize(
    ("c", "variable"),
    [(c, v) for c in processes() for v in secret_variables(c)],
    ids=lambda x: x.name if isinstance(x, Container) else x,
)
def test_a_process_missing_a_secret_stops_at_start(
    c: Container, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each secret a process is given is one it uses: without it, production's check names it
    (the verify keys' absence names the signing key, the other way to check commands)."""
    settings_of(c, monkeypatch, **SINK)
    monkeypatch.delenv(variable)
    settings = Settings(_env_file=None)
    found = named_variables(problems(settings, needs_of(c, settings)))
    named = "READMIT_COMMAND_SIGNING_KEY" if variable == "READMIT_COMMAND_VERIFY_KEYS" else variable
    assert named in found, f"{c.name} runs without {variable}"


SECRET_WORDS = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL")


def secret_settings() -> set[str]:
    """Variables whose values are secrets: named so, a SecretStr, or in `readmit keys init`."""
    named = {v for v in setting_env_names() if SECRET_WORDS.search(v)}
    typed = {
        f"READMIT_{name}".upper()
        for name, field in Settings.model_fields.items()
        if field.annotation in (SecretStr, SecretStr | None)
    }
    ids_too = set(SAMPLE_SECRETS["readmit-keys"]) - {"READMIT_ENV"}
    return named | typed | ids_too


def test_no_secret_is_written_in_a_manifest() -> None:
    secrets = secret_settings()
    assert {"READMIT_MASTER_KEYS", "READMIT_OIDC_CLIENT_SECRET", "DATABASE_URL"} <= secrets
    assert not of_kind("Secret"), "Secrets are created by the operator, never committed"
    for c in containers():
        for entry in c.spec.get("env") or []:
            if entry["name"] in secrets:
                assert "secretKeyRef" in entry.get("valueFrom", {}), f"{c.name}: {entry['name']}"
        for source in c.spec.get("envFrom") or []:
            assert "configMapRef" in source or "secretRef" in source
    assert not secrets & set(config_map("readmit-config"))
    for path in KUBERNETES.rglob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            assert "://" not in str(document).replace("http://", "").replace("https://", ""), (
                f"{path}: a DSN written out"
            )


def login(dsn: str) -> str:
    return urlsplit(dsn).username or ""


def test_only_the_migration_job_holds_the_owner_dsn() -> None:
    job = container("Job", "readmit-migrate")
    assert job.args == ["db", "migrate"]
    env = job.env()
    assert login(env["READMIT_MIGRATION_DATABASE_URL"]) == "readmit"
    assert job.secret_refs()["READMIT_MIGRATION_DATABASE_URL"][0] == OWNER_SECRET
    assert "DATABASE_URL" not in env, "migrate as the owner only"
    assert not set(env) & set(SAMPLE_SECRETS["readmit-keys"]) - {"READMIT_ENV"}, "no keys"
    assert env["READMIT_DB_RUNTIME_ROLE"] == login(
        SAMPLE_SECRETS["readmit-database"]["DATABASE_URL"]
    )
    for c in processes():
        refs = {name for name, _, _ in c.secret_refs().values()}
        refs |= {s["secretRef"]["name"] for s in c.spec.get("envFrom", []) if "secretRef" in s}
        assert OWNER_SECRET not in refs, c.name
        env = c.env()
        assert "READMIT_MIGRATION_DATABASE_URL" not in env, c.name
        assert c.secret_refs()["DATABASE_URL"][:2] == ("readmit-database", "DATABASE_URL")
        assert login(env["DATABASE_URL"]) == env["READMIT_DB_RUNTIME_ROLE"] != "readmit", c.name


# Least authority: who holds which key (as in docker-compose.yml).
HOLDERS = {
    "READMIT_COMMAND_SIGNING_KEY": {"readmit-api"},
    "READMIT_JWT_SECRET": {"readmit-api"},
    "READMIT_AUDIT_SIGNING_KEY": {"readmit-api", "readmit-worker-cases"},
    "READMIT_SEARCH_KEY": {"readmit-api", "readmit-worker-cases"},
}


@pytest.mark.parametrize("secret", sorted(HOLDERS))
def test_each_key_goes_only_to_the_processes_that_use_it(secret: str) -> None:
    holding = {c.workload["metadata"]["name"] for c in containers() if secret in c.env()}
    assert holding == HOLDERS[secret]


# The Secrets the operator creates (docs/operations.md, "Kubernetes"); the optional ones may be
# left out.
REQUIRED_SECRETS = {"readmit-keys", "readmit-database", OWNER_SECRET}
OPTIONAL_SECRETS = {"readmit-temporal", "readmit-api-extra", "readmit-worker-extra"}


def test_every_secret_reference_names_a_documented_secret_and_key() -> None:
    for c in containers():
        for variable, (name, key, optional) in c.secret_refs().items():
            assert name in REQUIRED_SECRETS | OPTIONAL_SECRETS, f"{c.name}: {variable}"
            if name in REQUIRED_SECRETS:
                assert key in SAMPLE_SECRETS[name], f"{c.name}: {variable} from {name}/{key}"
            else:
                assert optional, f"{c.name}: {variable} from an optional Secret"
        for source in c.spec.get("envFrom") or []:
            if "secretRef" in source:
                assert source["secretRef"].get("optional") is True
                assert source["secretRef"]["name"] in OPTIONAL_SECRETS
    assert set(SAMPLE_SECRETS) == REQUIRED_SECRETS
    guide = (KUBERNETES.parents[1] / "docs" / "operations.md").read_text()
    for name in REQUIRED_SECRETS | OPTIONAL_SECRETS:
        assert f"`{name}`" in guide, f"docs/operations.md does not say how to create {name}"


def test_the_documented_sed_gives_kubectl_the_values_production_reads() -> None:
    """`kubectl create secret --from-env-file` keeps quotes: the guide's `sed` strips the ones
    `readmit keys init` writes, leaving what the samples above (and the processes) read."""
    guide = (KUBERNETES.parents[1] / "docs" / "operations.md").read_text()
    match = re.search(r'keys init \\\n\s*\| sed -e "([^"]+)"', guide)
    assert match, "docs/operations.md pipes `readmit keys init` through sed"
    printed = production_key_set(datetime.now(UTC))
    lines = "".join(f"{name}={value}\n" for name, value in printed.items())
    result = subprocess.run(
        ["sed", "-e", match[1]], input=lines, capture_output=True, text=True, check=True
    )
    read = dict(line.split("=", 1) for line in result.stdout.splitlines())  # as kubectl does
    assert read == {name: value.strip("'") for name, value in printed.items()}
    assert json.loads(read["READMIT_MASTER_KEYS"])
