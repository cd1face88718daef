"""The alert rules (deploy/prometheus/alerts.yml) and Prometheus's configuration, checked with
`promtool` (Debian's `prometheus` package; .ci/run installs it): the rules parse, each alert
fires and stays silent as its unit tests say (tests/deploy/prometheus/alerts_test.yml), every
alert has such a test, and every metric a rule reads is one Readmit exports. Without promtool
these tests FAIL, never skip: an unchecked rule file is how alerts silently stop working."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from metric_names import PROMETHEUS_OWN, exported, read_by

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
RULE_TESTS = Path(__file__).parent / "prometheus" / "alerts_test.yml"
COMPOSE = ROOT / "docker-compose.yml"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool is missing: `apt-get install -y prometheus` (Debian's package; .ci/run "
            "installs it). The alert rules cannot be checked without it."
        )
    return subprocess.run([found, *args], capture_output=True, text=True, timeout=120, check=False)


def rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(RULES.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def test_promtool_checks_the_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_every_alert_passes_its_unit_tests() -> None:
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_unit_tests_are_not_vacuous(tmp_path: Path) -> None:
    """An alert expected with the wrong label fails `promtool test rules`."""
    text = RULE_TESTS.read_text().replace("../../../deploy/", f"{ROOT}/deploy/")
    broken = tmp_path / "broken_test.yml"
    broken.write_text(text.replace("{severity: page, limit: reply}", "{severity: page, limit: x}"))
    assert promtool("test", "rules", str(broken)).returncode != 0


def test_every_alert_is_unit_tested_firing() -> None:
    tested = yaml.safe_load(RULE_TESTS.read_text())
    firing = {
        case["alertname"]
        for test in tested["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {rule["alert"] for rule in rules()} == firing


def test_rules_read_only_metrics_readmit_exports() -> None:
    for rule in rules():
        names = read_by(str(rule["expr"]))
        assert names, rule["alert"]
        assert names <= exported() | PROMETHEUS_OWN, (rule["alert"], names - exported())


def test_rules_say_how_urgent_and_carry_no_case_or_person() -> None:
    for rule in rules():
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        text = str(rule)
        assert "case_id" not in text and "person" not in text, rule["alert"]


def test_prometheus_configuration_checks_and_scrapes_every_readmit_process(
    tmp_path: Path,
) -> None:
    """`promtool check config` on the configuration with its container paths pointed here;
    it scrapes the API with the scrape secret and each compose worker with its state."""
    config = yaml.safe_load(CONFIG.read_text())
    (tmp_path / "token").write_text("a-scrape-secret")
    config["rule_files"] = [str(RULES)]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for job in jobs.values():  # the API's scrape secrets: the single one and each node's
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(tmp_path / "token")
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config))
    result = promtool("check", "config", str(checked))
    assert result.returncode == 0, result.stdout + result.stderr

    original = yaml.safe_load(CONFIG.read_text())
    api = next(j for j in original["scrape_configs"] if j["job_name"] == "readmit-api")
    assert api["authorization"]["credentials_file"] == "/prometheus/metrics-token"
    assert [t for c in api["static_configs"] for t in c["targets"]] == ["api:8000"]
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert "/prometheus/metrics-token" in " ".join(services["prometheus"]["command"])
    workers = {
        name: s["command"][s["command"].index("--state") + 1]
        for name, s in services.items()
        if "build" in s and s.get("command", [""])[0] == "worker" and not s.get("profiles")
    }
    scraped = {
        target: config_block["labels"]["state"]
        for config_block in jobs["readmit-worker"]["static_configs"]
        for target in config_block["targets"]
    }
    assert scraped == {f"{name}:9465": state for name, state in workers.items()}
    # the ports are those the processes export on
    worker_env = services["worker-ua"]["environment"]
    assert worker_env["READMIT_METRICS_ADDRESS"].endswith(":9465")
    assert worker_env["READMIT_SDK_METRICS_ADDRESS"].endswith(":9464")
    sdk = {t for c in jobs["temporal-sdk"]["static_configs"] for t in c["targets"]}
    assert sdk == {f"{name}:9464" for name in workers}
    server = {t for c in jobs["temporal-server"]["static_configs"] for t in c["targets"]}
    port = services["temporal"]["environment"]["PROMETHEUS_ENDPOINT"].rsplit(":", 1)[1]
    assert server == {f"temporal:{port}"}


def set_labels(job: dict[str, Any]) -> dict[str, str]:
    """The labels a job's relabelling sets outright (no source label read)."""
    return {
        rule["target_label"]: str(rule["replacement"])
        for rule in job.get("relabel_configs") or []
        if not rule.get("source_labels")
    }


def test_prometheus_scrapes_each_federated_nodes_api_and_worker_when_they_run() -> None:
    """Every API and worker of the federated profile is a target, found by its compose name
    (no target while the node is down), on the port it exports on, under the single
    installation's job with its `node` (and a worker's `state`); a node's API with that node's
    own scrape secret, which the entrypoint writes where the job reads it; and Prometheus
    shares the nodes' `federation` network, none of their own."""
    config = yaml.safe_load(CONFIG.read_text())
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    prometheus = services["prometheus"]
    entrypoint = " ".join(prometheus["command"])
    expected: dict[str, tuple[str, dict[str, str]]] = {}
    for name, service in services.items():
        command = service.get("command") or [""]
        if "federated" not in (service.get("profiles") or []) or command[0] not in (
            "api",
            "worker",
        ):
            continue
        node, env = name.partition("-")[0].upper(), service["environment"]
        assert set(service["networks"]) & set(prometheus["networks"]) == {"federation"}, name
        if command[0] == "api":
            port = env["READMIT_API_PORT"]
            expected[f"{name}:{port}"] = ("readmit-api", {"node": node})
            token = f"{node}_READMIT_METRICS_TOKEN"
            assert env["READMIT_METRICS_TOKEN"] == prometheus["environment"][token] != ""
            (job,) = [j for j in config["scrape_configs"] if name in str(j.get("dns_sd_configs"))]
            path = job["authorization"]["credentials_file"]
            assert f"printf '%s' \"$${token}\" > {path}" in entrypoint, (name, path)
        else:
            state = command[command.index("--state") + 1]
            assert env["READMIT_METRICS_ADDRESS"].endswith(":9465")
            assert env["READMIT_SDK_METRICS_ADDRESS"].endswith(":9464")
            expected[f"{name}:9465"] = ("readmit-worker", {"node": node, "state": state})
            expected[f"{name}:9464"] = ("temporal-sdk", {"node": node})
    assert {t.split("-")[0] for t in expected} == {"pl", "ua"}, "both nodes' APIs and workers"
    scraped: dict[str, tuple[str, dict[str, str]]] = {}
    for job in config["scrape_configs"]:
        if "dns_sd_configs" not in job:
            continue
        labels = set_labels(job)
        (sd,) = job["dns_sd_configs"]
        (target,) = [f"{found}:{sd['port']}" for found in sd["names"]]
        assert sd["type"] == "A" and labels.pop("instance") == target, job["job_name"]
        assert target not in scraped, target
        scraped[target] = (labels.pop("job"), labels)
    assert scraped == expected
