"""deploy/kubernetes/, checked without a cluster: every object against the Kubernetes schema
(`kubernetes-validate`, strict, at the versions pinned below), then what the schema cannot see:
the kustomizations list every file, each Deployment has a PodDisruptionBudget that selects its
pods, every pod runs as the image's unprivileged user on a read-only root file system with
resources set, every command is a `readmit` command, the probes ask routes that exist and need
no token, and one Deployment serves each state's task queue and the case queue."""

from __future__ import annotations

import re
import socket
import tomllib
import urllib.request
from typing import Any

import kubernetes_validate
import pytest
import yaml
from fastapi.routing import APIRoute
from kubernetes_manifests import (
    PARTS,
    ROOT,
    Container,
    Object,
    container,
    containers,
    files,
    kustomization,
    objects,
    of_kind,
    processes,
)
from typer.testing import CliRunner
from worker_options import worker_queues

from adapters import metrics
from api.routes.health import router as health_router
from readmit.cli.main import app
from workers.queues import DEFAULT_STATES

# The oldest Kubernetes minor the manifests promise to work on, and the newest the pinned
# kubernetes-validate knows: they must hold on both.
KUBERNETES_VERSIONS = ("1.31.0", "1.37.0")
IMAGE = "registry.example.org/readmit"


def label(o: Object) -> str:
    return f"{o['kind']}/{o['metadata']['name']}"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("document", objects(), ids=label)
def test_every_object_matches_the_kubernetes_schema(document: Object, version: str) -> None:
    kubernetes_validate.validate(document, version, strict=True)


def test_the_schema_check_is_not_vacuous() -> None:
    (api,) = [d for d in of_kind("Deployment") if d["metadata"]["name"] == "readmit-api"]
    broken: dict[str, Any] = {**api, "spec": {**api["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)
    unknown: dict[str, Any] = {**api, "spec": {**api["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(unknown, KUBERNETES_VERSIONS[0], strict=True)


@pytest.mark.parametrize("part", PARTS)
def test_each_kustomization_lists_its_files_in_the_namespace(part: str) -> None:
    listed = kustomization(part)
    names = {p.name for p in files(part)} - {"kustomization.yaml"}
    assert set(listed["resources"]) == names
    assert listed["namespace"] == "readmit"
    for image in listed.get("images", []):
        assert image["name"] == IMAGE


def test_every_object_is_in_the_readmit_namespace() -> None:
    for o in objects():
        if o["kind"] != "Namespace":
            assert o["metadata"].get("namespace") == "readmit", label(o)
    (namespace,) = of_kind("Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def kinds_of(part: str) -> set[str]:
    return {
        d["kind"]
        for path in files(part)
        if path.name != "kustomization.yaml"
        for d in yaml.safe_load_all(path.read_text())
        if d
    }


def test_the_migration_job_is_applied_apart_from_the_api_and_workers() -> None:
    """Migrate first, then roll the API and workers: separate kustomizations, applied in that
    order (docs/operations.md, "Kubernetes"), so that `kubectl apply -k app` never races it."""
    assert kinds_of("base") == {"Namespace", "ServiceAccount", "ConfigMap"}
    assert kinds_of("migrate") == {"Job"}
    assert kinds_of("app") == {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"}
    (job,) = of_kind("Job")
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 1


def dockerfile_uid() -> int:
    text = (ROOT / "Dockerfile").read_text()
    match = re.search(r"useradd [^\n]*--uid (\d+)", text)
    assert match, "the Dockerfile creates its user with a fixed uid"
    return int(match[1])


@pytest.mark.parametrize("c", containers(), ids=lambda c: c.name)
def test_every_pod_is_unprivileged_with_a_read_only_root(c: Container) -> None:
    pod, spec = c.pod, c.spec
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == security["runAsGroup"] == dockerfile_uid()
    assert security["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == "readmit"
    own = spec["securityContext"]
    assert own["allowPrivilegeEscalation"] is False
    assert own["readOnlyRootFilesystem"] is True
    assert own["capabilities"]["drop"] == ["ALL"]
    # the one writable place: an emptyDir on /tmp (uploads spooled, tesseract's work files)
    mounts = {m["mountPath"]: m["name"] for m in spec.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    assert set(mounts) == {"/tmp"} and "emptyDir" in volumes[mounts["/tmp"]]


def release() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


@pytest.mark.parametrize("c", containers(), ids=lambda c: c.name)
def test_every_container_has_requests_and_limits_and_the_release_image(c: Container) -> None:
    resources = c.spec["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert {"cpu", "memory"} <= set(resources["limits"])
    assert c.spec["image"] == f"{IMAGE}:{release()}", "the image of this release"


@pytest.mark.parametrize("part", ["migrate", "app"])
def test_each_kustomization_pins_the_release_image(part: str) -> None:
    assert kustomization(part)["images"] == [{"name": IMAGE, "newTag": release()}]


@pytest.mark.parametrize("c", containers(), ids=lambda c: c.name)
def test_every_command_is_a_readmit_command(c: Container) -> None:
    # --help is eager: exit 0 means the (sub)command exists and every option before it parsed
    result = CliRunner().invoke(app, [*c.args, "--help"])
    assert result.exit_code == 0, f"readmit {' '.join(c.args)}: {result.output}"


def selects(selector: Object, labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


@pytest.mark.parametrize("deployment", of_kind("Deployment"), ids=label)
def test_every_deployment_has_a_disruption_budget_that_leaves_room(deployment: Object) -> None:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selects(deployment["spec"]["selector"], labels)
    budgets = [b for b in of_kind("PodDisruptionBudget") if selects(b["spec"]["selector"], labels)]
    assert len(budgets) == 1, label(deployment)
    # a drain can proceed: more replicas than the budget keeps
    assert deployment["spec"]["replicas"] > budgets[0]["spec"]["minAvailable"]
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def probe_port(c: Container, probe: Object) -> int:
    port = probe["httpGet"]["port"]
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in c.spec["ports"] if p["name"] == port]
    return int(number)


def test_api_probes_ask_the_real_health_routes_without_a_token() -> None:
    (api,) = [c for c in processes() if c.args == ["api"]]
    routes = {r.path: r for r in health_router.routes if isinstance(r, APIRoute)}
    for name, path in (("livenessProbe", "/health"), ("startupProbe", "/health")):
        assert api.spec[name]["httpGet"]["path"] == path
    assert api.spec["readinessProbe"]["httpGet"]["path"] == "/ready"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        path = api.spec[probe]["httpGet"]["path"]
        assert not routes[path].dependant.dependencies, f"{path} asks for a token"
        assert probe_port(api, api.spec[probe]) == int(api.env()["READMIT_API_PORT"])
    (service,) = of_kind("Service")
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    "c", [c for c in processes() if c.args[0] == "worker"], ids=lambda c: c.name
)
def test_worker_probes_ask_the_worker_metrics_endpoint(c: Container) -> None:
    address = c.env()["READMIT_METRICS_ADDRESS"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert c.spec[probe]["httpGet"]["path"] == "/metrics"
        assert probe_port(c, c.spec[probe]) == int(address.rpartition(":")[2])
    assert address.startswith("0.0.0.0:"), "the kubelet reaches the pod's address, not loopback"


def test_the_worker_metrics_endpoint_answers_the_probe_path() -> None:
    port = free_port()
    metrics.start_exporter(f"127.0.0.1:{port}")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200


def served(c: Container) -> tuple[bool, list[str]]:
    """(serves the case queue, the states whose queues it serves), as `readmit worker` reads
    its options (its own parser: tests/worker_options.py)."""
    selection = worker_queues(c.args)
    return selection.cases, list(selection.states)


def test_one_deployment_per_state_queue_and_one_for_the_case_queue() -> None:
    workers = [c for c in processes() if c.args[0] == "worker"]
    case_workers = [c.name for c in workers if served(c)[0]]
    assert case_workers == ["Deployment/readmit-worker-cases"]
    assert served(container("Deployment", "readmit-worker-cases")) == (True, [])
    states = [s for c in workers for s in served(c)[1]]
    assert sorted(states) == sorted(DEFAULT_STATES), "each state's queue served exactly once"
    for c in workers:
        if c.name != "Deployment/readmit-worker-cases":
            assert len(served(c)[1]) == 1, f"{c.name} serves one state's queue"
            assert c.workload["metadata"]["name"] == f"readmit-worker-{served(c)[1][0].lower()}"
        assert c.pod["terminationGracePeriodSeconds"] >= 60, "in-flight tasks finish on SIGTERM"


def admits(policy: Object, labels: dict[str, str], port: Object) -> bool:
    """Whether `policy` selects pods labelled `labels` and lets a connection reach `port`."""
    selector = policy["spec"]["podSelector"]
    for rule in selector.get("matchExpressions", []):
        assert rule["operator"] == "In"
        if labels.get(rule["key"]) not in rule["values"]:
            return False
    if not all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()):
        return False
    return any(
        p["port"] in (port["name"], port["containerPort"])
        for rule in policy["spec"].get("ingress", [])
        for p in rule.get("ports", [])
    )


def test_ingress_is_denied_but_to_the_ports_pods_listen_on() -> None:
    policies = of_kind("NetworkPolicy")
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and "ingress" not in p["spec"]]
    assert deny and deny[0]["spec"]["policyTypes"] == ["Ingress"]
    for deployment in of_kind("Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        for spec in deployment["spec"]["template"]["spec"]["containers"]:
            for port in spec["ports"]:
                assert any(admits(p, labels, port) for p in policies), (label(deployment), port)
    assert not any(admits(p, {}, {"name": "x", "containerPort": 5432}) for p in policies)
