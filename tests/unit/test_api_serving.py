"""How `readmit api` configures uvicorn: what a deployment's settings reach the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from adapters.settings import get_settings
from readmit.cli import main


def _exit(code: int = 0) -> None:
    raise SystemExit(code)


def test_idle_connections_stay_open_past_a_proxys_idle_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options))
    monkeypatch.setattr("readmit.cli.api.install_runtime", lambda: None)
    monkeypatch.setattr("readmit.cli.api.exit_now", _exit)  # not os._exit inside pytest
    monkeypatch.setenv("READMIT_API_KEEP_ALIVE_SECONDS", "90")
    monkeypatch.setenv("READMIT_ENV", "development")
    monkeypatch.setenv("READMIT_HOME", str(tmp_path))
    monkeypatch.setenv("READMIT_TEMPORAL_ADDRESS", "127.0.0.1:7233")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main.app, ["api"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert served["timeout_keep_alive"] == 90
    assert served["server_header"] is False
    # forwarded headers count only from READMIT_TRUSTED_PROXIES (api.hardening), not from
    # uvicorn's default of 127.0.0.1
    assert served["proxy_headers"] is False
