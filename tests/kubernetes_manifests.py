"""deploy/kubernetes/ read as the tests see it: its objects, its containers, and the environment
each container would get in a cluster, its Secrets filled with a sample of what the operator
creates (`readmit keys init`, two DSNs); shared by tests/deploy/test_kubernetes*.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices, BaseModel

from adapters.settings import Settings
from readmit.cli.keys import production_key_set

ROOT = Path(__file__).resolve().parents[1]
KUBERNETES = ROOT / "deploy" / "kubernetes"
PARTS = ("base", "migrate", "app")
Object = dict[str, Any]

OWNER_DSN = "postgresql://readmit:owner-pw-Zq8@db.example.internal:5432/readmit"
RUNTIME_DSN = "postgresql://readmit_app:runtime-pw-K3v@db.example.internal:5432/readmit"
# What the operator puts in each Secret (docs/operations.md, "Kubernetes"): the key set
# `readmit keys init` prints, its quotes stripped as the documented `sed` does, and the DSNs.
SAMPLE_SECRETS: dict[str, dict[str, str]] = {
    "readmit-keys": {
        name: value.strip("'") for name, value in production_key_set(datetime.now(UTC)).items()
    },
    "readmit-database": {"DATABASE_URL": RUNTIME_DSN},
    "readmit-database-owner": {
        "READMIT_MIGRATION_DATABASE_URL": OWNER_DSN,
        "READMIT_DB_RUNTIME_PASSWORD": "runtime-pw-K3v",
    },
}


@dataclass(frozen=True)
class Container:
    """One container of a workload, with the workload it belongs to."""

    workload: Object
    spec: Object

    @property
    def name(self) -> str:
        return f"{self.workload['kind']}/{self.workload['metadata']['name']}"

    @property
    def args(self) -> list[str]:
        return [str(a) for a in self.spec.get("args") or self.spec.get("command") or []]

    @property
    def pod(self) -> Object:
        return dict(self.workload["spec"]["template"]["spec"])

    def env(self, secrets: dict[str, dict[str, str]] | None = None) -> dict[str, str]:
        """The variables the process sees: ConfigMaps and Secrets named by `envFrom`, then
        `env` (values, ConfigMap and Secret keys); a Secret absent from `secrets` (the
        samples by default) leaves its variables unset, as an optional one does."""
        secrets = SAMPLE_SECRETS if secrets is None else secrets
        found: dict[str, str] = {}
        for source in self.spec.get("envFrom") or []:
            if "configMapRef" in source:
                found |= config_map(source["configMapRef"]["name"])
            elif "secretRef" in source:
                found |= secrets.get(source["secretRef"]["name"], {})
        for entry in self.spec.get("env") or []:
            if "value" in entry:
                found[entry["name"]] = str(entry["value"])
                continue
            ref = entry["valueFrom"]
            if "configMapKeyRef" in ref:
                key = ref["configMapKeyRef"]
                found[entry["name"]] = config_map(key["name"])[key["key"]]
            elif "secretKeyRef" in ref:
                key = ref["secretKeyRef"]
                value = secrets.get(key["name"], {}).get(key["key"])
                if value is not None:
                    found[entry["name"]] = value
        return found

    def secret_refs(self) -> dict[str, tuple[str, str, bool]]:
        """Variable → (Secret, key, optional) of every `secretKeyRef`."""
        refs = {}
        for entry in self.spec.get("env") or []:
            key = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if key:
                refs[entry["name"]] = (key["name"], key["key"], bool(key.get("optional")))
        return refs


def files(part: str) -> list[Path]:
    return sorted((KUBERNETES / part).glob("*.yaml"))


@cache
def kustomization(part: str) -> Object:
    return dict(yaml.safe_load((KUBERNETES / part / "kustomization.yaml").read_text()))


@cache
def objects() -> tuple[Object, ...]:
    """Every Kubernetes object of deploy/kubernetes/ (the kustomizations are not objects)."""
    found: list[Object] = []
    for part in PARTS:
        for path in files(part):
            if path.name != "kustomization.yaml":
                found += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return tuple(found)


def of_kind(kind: str) -> list[Object]:
    return [o for o in objects() if o["kind"] == kind]


@cache
def overlay_config_maps() -> tuple[Object, ...]:
    """The ConfigMaps the federated overlay adds (deploy/kubernetes/federated/node.yaml)."""
    found = yaml.safe_load_all((KUBERNETES / "federated" / "node.yaml").read_text())
    return tuple(d for d in found if d and d["kind"] == "ConfigMap")


def config_map(name: str) -> dict[str, str]:
    maps = of_kind("ConfigMap") + list(overlay_config_maps())
    (found,) = [o for o in maps if o["metadata"]["name"] == name]
    return {k: str(v) for k, v in found["data"].items()}


def containers() -> list[Container]:
    return [
        Container(workload, spec)
        for workload in of_kind("Deployment") + of_kind("Job")
        for spec in workload["spec"]["template"]["spec"]["containers"]
    ]


def container(kind: str, name: str) -> Container:
    (found,) = [c for c in containers() if c.name == f"{kind}/{name}"]
    return found


def processes() -> list[Container]:
    """The long-running Readmit processes: `readmit api` and `readmit worker`."""
    return [c for c in containers() if c.args[:1] in (["api"], ["worker"])]


def setting_env_names() -> set[str]:
    """Every environment variable `Settings` reads, nested ones included."""
    names = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {str(choice).upper() for choice in alias.choices}
        else:
            names.add(f"READMIT_{field_name}".upper())
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            names |= {f"READMIT_{field_name}__{sub}".upper() for sub in nested.model_fields}
    return names


VARIABLE = re.compile(r"^(READMIT_[A-Z0-9_]+|DATABASE_URL)\b")


def named_variables(found_problems: list[str]) -> set[str]:
    """The variables production's problems name (`READMIT_X (why)`)."""
    return {m[1] for p in found_problems if (m := VARIABLE.match(p))}
