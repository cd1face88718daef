"""How `readmit api` configures uvicorn: what a deployment's settings reach the server."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from adapters.settings import get_settings
from readmit.cli import main


def _exit(code: int = 0) -> None:
    raise SystemExit(code)


def test_idle_connections_stay_open_past_a_proxys_idle_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(options))
    monkeypatch.setattr("readmit.cli.api.install_runtime", lambda: None)
    monkeypatch.setattr("readmit.cli.api.exit_now", _exit)  # not os._exit inside pytest
    monkeypatch.setenv("READMIT_API_KEEP_ALIVE_SECONDS", "90")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main.app, ["api"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert served["timeout_keep_alive"] == 90
    assert served["server_header"] is False
