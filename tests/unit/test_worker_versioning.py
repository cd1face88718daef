"""The worker versioning settings (workers/versioning.py): off unless a deployment is named;
the build id explicit or derived from the version and the workflow code; the behaviour chosen
once for the installation; only the case queue's worker versioned. The server's side (a version
takes no case until current, auto-upgrade and pinned) is tests/e2e/test_worker_deployment.py."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError
from temporalio.common import VersioningBehavior

import workers.versioning as versioning
from adapters.settings import Settings
from workers.versioning import build_id, code_hash, deployment_config


def test_off_by_default_and_when_the_variable_is_blank(monkeypatch: pytest.MonkeyPatch) -> None:
    assert deployment_config(Settings()) is None
    monkeypatch.setenv("READMIT_WORKER_DEPLOYMENT", "")
    monkeypatch.setenv("READMIT_BUILD_ID", "")
    assert deployment_config(Settings()) is None


def test_a_named_deployment_versions_the_worker_with_the_chosen_behaviour(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("READMIT_WORKER_DEPLOYMENT", "readmit")
    monkeypatch.setenv("READMIT_BUILD_ID", "2027.1+ab12")
    config = deployment_config(Settings())
    assert config is not None and config.use_worker_versioning
    assert (config.version.deployment_name, config.version.build_id) == ("readmit", "2027.1+ab12")
    assert config.default_versioning_behavior == VersioningBehavior.AUTO_UPGRADE
    monkeypatch.setenv("READMIT_WORKER_VERSIONING_BEHAVIOR", "pinned")
    pinned = deployment_config(Settings())
    assert pinned is not None and pinned.default_versioning_behavior == VersioningBehavior.PINNED


def test_the_default_build_id_is_the_version_and_the_workflow_code_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(versioning, "package_version", lambda: "0.3.0")
    derived = build_id(Settings(worker_deployment="readmit"))
    assert derived == f"0.3.0+{code_hash()}"
    assert len(code_hash()) == 12 and code_hash() == code_hash()  # stable across calls
    config = deployment_config(Settings(worker_deployment="readmit"))
    assert config is not None and config.version.build_id == derived


def test_the_hash_changes_with_the_workflow_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = SimpleNamespace(__name__="workflows", __path__=[str(tmp_path)])
    monkeypatch.setattr(versioning, "HASHED", (package,))
    (tmp_path / "case.py").write_text("x = 1\n")
    before = code_hash()
    (tmp_path / "case.py").write_text("x = 2\n")
    assert code_hash() != before


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("worker_deployment", "readmit/prod"),
        ("worker_deployment", "x" * 101),
        ("build_id", "1.0 beta"),
        ("worker_versioning_behavior", "sometimes"),
    ],
)
def test_bad_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({name: value})
