"""The Grafana files (deploy/grafana): the Readmit dashboard is valid JSON whose every panel
query reads only metrics Readmit exports (adapters/metrics.py), on the data source the
provisioning defines; it shows what issue 18 asks for; and the provisioning files point where
the compose profile "observability" mounts them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from metric_names import PROMETHEUS_OWN, exported, read_by

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
PROVISIONING = GRAFANA / "provisioning"
COMPOSE = ROOT / "docker-compose.yml"


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS.rglob("*.json"))


def readmit_dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DASHBOARDS / "readmit.json").read_text())
    return loaded


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row's


def datasource() -> dict[str, Any]:
    loaded = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    [source] = loaded["datasources"]
    found: dict[str, Any] = source
    return found


def compose_service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"][name]
    return found


def test_every_dashboard_file_is_valid_json_with_a_unique_uid() -> None:
    uids = [json.loads(path.read_text())["uid"] for path in dashboard_files()]
    assert uids and len(uids) == len(set(uids))


def test_every_panel_query_reads_metrics_readmit_exports() -> None:
    queried = set()
    for panel in panels(readmit_dashboard()):
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == datasource()["uid"], panel["title"]
        for target in panel["targets"]:
            names = read_by(target["expr"])
            assert names, (panel["title"], target["expr"])
            assert names <= exported() | PROMETHEUS_OWN, (panel["title"], names - exported())
            assert target["datasource"]["uid"] == datasource()["uid"], panel["title"]
            queried |= names
    # what the issue asks the dashboard to show
    assert {
        "readmit_cases",
        "readmit_deadlines_due_soon",
        "readmit_overdue_deadlines",
        "readmit_deadlines_past_due_unescalated",
        "readmit_escalations_total",
        "readmit_http_request_duration_seconds_bucket",
        "readmit_projector_lag_events",
        "readmit_notifications_total",
        "readmit_federation_delivery_seconds_bucket",
    } <= queried


def test_the_check_is_not_vacuous() -> None:
    assert read_by('sum by (status) (rate(readmit_no_such_metric{a="b"}[5m]))') == {
        "readmit_no_such_metric"
    }
    assert "readmit_no_such_metric" not in exported()


def test_panels_do_not_overlap() -> None:
    taken: set[tuple[int, int]] = set()
    for panel in readmit_dashboard()["panels"]:
        grid = panel["gridPos"]
        cells = {
            (grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"]) for dy in range(grid["h"])
        }
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert not cells & taken, panel["title"]
        taken |= cells


def test_provisioning_points_where_compose_mounts_it() -> None:
    grafana = compose_service("grafana")
    mounts = dict(volume.rsplit(":", 1)[0].split(":", 1) for volume in grafana["volumes"][:2])
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    dashboards_in = mounts["./deploy/grafana/dashboards"]
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "readmit.yml").read_text())
    assert [p["options"]["path"] for p in providers["providers"]] == [dashboards_in]
    url = urlsplit(datasource()["url"])
    assert (url.hostname, url.port) == ("prometheus", 9090)
    assert datasource()["type"] == "prometheus"
    prometheus = compose_service("prometheus")
    assert any(str(p).endswith(":9090") for p in prometheus["ports"])
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert set(prometheus["profiles"]) == set(grafana["profiles"]) == {"observability"}


# --- Temporal's published dashboards (deploy/grafana/dashboards/temporal, issue 18) ----------
TEMPORAL = DASHBOARDS / "temporal"


def temporal_dashboard(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((TEMPORAL / name).read_text())
    return loaded


def datasource_references(node: Any) -> Iterator[Any]:
    """Every `datasource` value anywhere in a dashboard (panels, targets, variables)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            yield from datasource_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from datasource_references(item)


def test_temporals_sdk_and_server_dashboards_are_there_with_their_licence() -> None:
    assert {path.name for path in TEMPORAL.glob("*.json")} == {
        "sdk-core.json",
        "server-general.json",
    }
    licence = (TEMPORAL / "LICENSE").read_text()
    assert licence.startswith("The MIT License") and "Temporal Technologies" in licence
    readme = (TEMPORAL / "README.md").read_text()
    assert "MIT" in readme and "temporalio/dashboards" in readme
    for name, uid, title in [
        ("sdk-core.json", "temporal-sdk-core", "Temporal Core SDK"),
        ("server-general.json", "temporal-server-general", "Temporal Server"),
    ]:
        dashboard = temporal_dashboard(name)
        assert dashboard["uid"] == uid and dashboard["id"] is None
        assert dashboard["title"].startswith(title)
        assert len(list(panels(dashboard))) >= 10, name
        assert all(t["expr"] for p in panels(dashboard) for t in p.get("targets", [])), name


def test_temporals_dashboards_query_the_provisioned_prometheus() -> None:
    source = datasource()
    sdk = temporal_dashboard("sdk-core.json")
    [variable] = [v for v in sdk["templating"]["list"] if v["type"] == "datasource"]
    assert variable["query"] == source["type"]
    assert variable["current"]["value"] == source["uid"]
    for reference in datasource_references(sdk):
        if isinstance(reference, dict) and reference.get("type") == "prometheus":
            assert reference["uid"] in {"$datasource", "${datasource}"}, reference
    sdk_metrics = {n for p in panels(sdk) for t in p.get("targets", []) for n in read_by(t["expr"])}
    assert "temporal_workflow_completed" in sdk_metrics  # the Python SDK's (Core's) names
    # the server dashboard names no data source: Grafana's default, which must be ours
    server = temporal_dashboard("server-general.json")
    assert {str(r) for r in datasource_references(server)} <= {"None", "-- Grafana --"}
    assert source["isDefault"] is True


def test_provisioning_loads_the_temporal_dashboards_too() -> None:
    grafana = compose_service("grafana")
    mounts = dict(volume.rsplit(":", 1)[0].split(":", 1) for volume in grafana["volumes"][:2])
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "readmit.yml").read_text())
    [provider] = providers["providers"]
    # the provider reads the mounted directory recursively: temporal/ is under it
    assert provider["type"] == "file"
    assert provider["options"]["path"] == mounts["./deploy/grafana/dashboards"]
    assert TEMPORAL.parent == ROOT / "deploy" / "grafana" / "dashboards"
    scraped = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in scraped["scrape_configs"]}
    assert {"temporal-sdk", "temporal-server"} <= jobs
