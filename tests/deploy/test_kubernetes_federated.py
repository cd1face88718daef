"""deploy/kubernetes/federated/, a federated node's overlay of app/, checked without a cluster:
built here as kustomize builds it (strategic merge patches, merged by name; compared with
`kubectl kustomize` where kubectl is installed), every object against the Kubernetes schema,
and what the schema cannot see: the API and the case worker get the node's settings from the
`readmit-node` ConfigMap and pass production's check as a node; the init container copying the
key file out of the Secret volume is the release image, unprivileged on a read-only root, and
its very command turns a Secret's root-owned, group-readable file into one the node accepts
(its own, mode 0600), where READMIT_NODE_KEYS_FILE points."""

from __future__ import annotations

import copy
import os
import re
import shutil
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_manifests import KUBERNETES, SAMPLE_SECRETS, Container, Object, setting_env_names

from adapters.federation.identity import IdentityError, NodeIdentity
from adapters.production import API, problems, worker_needs
from adapters.settings import Settings

OVERLAY = KUBERNETES / "federated"
VERSIONS = ("1.31.0", "1.37.0")
IMAGE = "registry.example.org/readmit"
NODE_PROCESSES = ("readmit-api", "readmit-worker-cases")
NODE_VARIABLES = {"READMIT_NODE_STATE", "READMIT_NODE_URL", "READMIT_NODE_KEYS_FILE"}


def merge(base: Any, patch: Any) -> Any:
    """A strategic merge patch as kustomize applies these: maps merge key by key; lists of
    named items (containers, env, volumes, volumeMounts) merge by name; other lists replace."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    named = isinstance(base, list) and isinstance(patch, list)
    if named and all(isinstance(i, dict) and "name" in i for i in [*base, *patch]):
        by_name = {item["name"]: item for item in base}
        merged_items = list(base)
        for item in patch:
            if item["name"] in by_name:
                index = [i["name"] for i in merged_items].index(item["name"])
                merged_items[index] = merge(merged_items[index], item)
            else:
                merged_items.append(copy.deepcopy(item))
        return merged_items
    return copy.deepcopy(patch)


def build(directory: Path) -> list[Object]:
    """The objects `kubectl kustomize directory` gives (resources, patches, namespace)."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    found: list[Object] = []
    for resource in spec["resources"]:
        path = directory / resource
        if path.is_dir():
            found += build(path)
        else:
            found += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for entry in spec.get("patches", []):
        if "path" in entry:
            patch = yaml.safe_load((directory / entry["path"]).read_text())
            target = {"kind": patch["kind"], "name": f"^{re.escape(patch['metadata']['name'])}$"}
        else:
            patch, target = yaml.safe_load(entry["patch"]), entry["target"]
        chosen = [
            i
            for i, o in enumerate(found)
            if o["kind"] == target["kind"] and re.fullmatch(target["name"], o["metadata"]["name"])
        ]
        assert chosen, f"a patch of {directory.name} matches nothing: {target}"
        if patch.get("$patch") == "delete":
            found = [o for i, o in enumerate(found) if i not in chosen]
            continue
        (index,) = chosen
        found[index] = merge(found[index], patch)
    for o in found:
        o["metadata"]["namespace"] = spec["namespace"]
    return found


def objects() -> list[Object]:
    return build(OVERLAY)


def deployment(name: str) -> Object:
    (found,) = [o for o in objects() if o["kind"] == "Deployment" and o["metadata"]["name"] == name]
    return found


def main_container(name: str) -> Container:
    workload = deployment(name)
    return Container(workload, workload["spec"]["template"]["spec"]["containers"][0])


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_matches_the_kubernetes_schema(version: str) -> None:
    for document in objects():
        kubernetes_validate.validate(document, version, strict=True)


def test_the_overlay_lists_its_files_and_builds_on_app() -> None:
    spec = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    own = {p.name for p in OVERLAY.glob("*.yaml")} - {"kustomization.yaml"}
    patches = {p["path"] for p in spec["patches"] if "path" in p}
    assert set(spec["resources"]) - {"../app"} | patches == own
    assert "../app" in spec["resources"] and spec["namespace"] == "readmit"
    app = yaml.safe_load((KUBERNETES / "app" / "kustomization.yaml").read_text())
    assert spec["images"] == app["images"], "the same release image as app/"


def normalised(found: list[Object]) -> dict[tuple[str, str], Any]:
    """Objects by kind and name, named lists sorted by name (their order is kustomize's)."""

    def tidy(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: tidy(v) for k, v in value.items()}
        if isinstance(value, list):
            items = [tidy(v) for v in value]
            if all(isinstance(i, dict) and "name" in i for i in items):
                return sorted(items, key=lambda i: str(i["name"]))
            return items
        return value

    return {(o["kind"], o["metadata"]["name"]): tidy(o) for o in found}


def test_the_build_here_is_kustomizes() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the overlay is checked as built here only")
    built = subprocess.run(
        [kubectl, "kustomize", str(OVERLAY)], capture_output=True, text=True, check=True
    )
    theirs = [d for d in yaml.safe_load_all(built.stdout) if d]
    assert normalised(theirs) == normalised(objects())


@pytest.mark.parametrize("name", NODE_PROCESSES)
def test_the_node_processes_pass_production_check_as_the_node(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = main_container(name)
    for variable in setting_env_names():
        monkeypatch.delenv(variable, raising=False)
    for variable, value in c.env().items():
        monkeypatch.setenv(variable, value)
    settings = Settings(_env_file=None)
    assert settings.production and settings.node_state == "PL"
    assert settings.node_url and settings.node_url.startswith("https://")
    needs = API if c.args[0] == "api" else worker_needs(settings, serves_cases=True)
    assert "node" in needs and problems(settings, needs) == []
    assert c.args[:2] in (["api"], ["worker", "--cases-only"])


def test_the_node_runs_its_api_its_case_worker_and_its_own_states_worker_only() -> None:
    state = main_container("readmit-api").env()["READMIT_NODE_STATE"]
    names = {o["metadata"]["name"] for o in objects() if o["kind"] == "Deployment"}
    assert names == {*NODE_PROCESSES, f"readmit-worker-{state.lower()}"}
    budgets = {o["metadata"]["name"] for o in objects() if o["kind"] == "PodDisruptionBudget"}
    assert budgets == names
    assert main_container(f"readmit-worker-{state.lower()}").args == [
        "worker",
        "--no-cases",
        "--state",
        state,
    ]


def test_only_the_api_and_the_case_worker_are_given_the_node() -> None:
    for o in objects():
        if o["kind"] != "Deployment":
            continue
        pod = o["spec"]["template"]["spec"]
        given = {e["name"] for c in pod["containers"] for e in c.get("env") or []}
        if o["metadata"]["name"] in NODE_PROCESSES:
            assert given >= NODE_VARIABLES and pod["initContainers"], o["metadata"]["name"]
        else:
            assert not NODE_VARIABLES & given and "initContainers" not in pod


def mounts(container: Object) -> dict[str, Object]:
    return {m["name"]: m for m in container.get("volumeMounts") or []}


@pytest.mark.parametrize("name", NODE_PROCESSES)
def test_the_key_file_is_copied_by_an_unprivileged_init_container(name: str) -> None:
    pod = deployment(name)["spec"]["template"]["spec"]
    main = pod["containers"][0]
    (init,) = pod["initContainers"]
    assert init["image"] == main["image"] and init["image"].startswith(f"{IMAGE}:")
    assert pod["securityContext"]["runAsNonRoot"] and "runAsUser" not in init.get(
        "securityContext", {}
    )
    assert init["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert init["resources"]["requests"] and init["resources"]["limits"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    source, copy_ = init["command"][-2:]
    assert init["command"][:-2] == ["install", "-m", "600"]
    (secret_mount,) = [m for m in mounts(init).values() if source.startswith(m["mountPath"] + "/")]
    secret = volumes[secret_mount["name"]]["secret"]
    assert secret_mount["readOnly"] and secret["secretName"] == "readmit-node-keys"
    assert [i["path"] for i in secret["items"]] == [Path(source).name]
    (copy_mount,) = [m for m in mounts(init).values() if copy_.startswith(m["mountPath"] + "/")]
    assert volumes[copy_mount["name"]]["emptyDir"]["medium"] == "Memory"
    # the process reads the copy, read-only, and never the Secret's own files
    assert main_container(name).env()["READMIT_NODE_KEYS_FILE"] == copy_
    assert mounts(main)[copy_mount["name"]] == {**copy_mount, "readOnly": True}
    assert secret_mount["name"] not in mounts(main)


def test_the_init_containers_command_makes_a_key_file_the_node_accepts(tmp_path: Path) -> None:
    """The command as the pod runs it, on directories standing for the two volumes: the
    Secret's file (group-readable, as Kubernetes mounts it with the pod's fsGroup) is refused
    by the node; the copy is the process's own, mode 0600, and loads."""
    (init,) = deployment("readmit-api")["spec"]["template"]["spec"]["initContainers"]
    source, copy_ = (Path(p) for p in init["command"][-2:])
    secret_dir, empty_dir = tmp_path / "secret", tmp_path / "empty"
    secret_dir.mkdir()
    empty_dir.mkdir()
    identity = NodeIdentity.create("PL", "https://pl.readmit.example", now=datetime.now(UTC))
    mounted = identity.save(secret_dir / source.name)
    mounted.chmod(0o440)
    with pytest.raises(IdentityError, match="chmod 600"):
        NodeIdentity.load(mounted)
    command = [*init["command"][:-2], str(mounted), str(empty_dir / copy_.name)]
    subprocess.run(command, check=True, timeout=30)
    copied = empty_dir / copy_.name
    info = copied.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.getuid()
    assert NodeIdentity.load(copied).state == "PL"


def test_no_secret_is_written_in_the_overlay() -> None:
    text = "\n".join(p.read_text() for p in OVERLAY.glob("*.yaml"))
    for value in SAMPLE_SECRETS["readmit-keys"].values():
        assert value not in text
    assert "kind: Secret" not in text
