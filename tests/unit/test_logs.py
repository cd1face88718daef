"""Log lines go to the process's stderr as it is when they are written."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
import structlog

from adapters.logs import configure_logging


def test_logging_configured_under_a_swapped_stderr_outlives_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    borrowed = io.StringIO()
    with monkeypatch.context() as swapped:
        swapped.setattr(sys, "stderr", borrowed)  # as CliRunner does for one command
        configure_logging("INFO")
        structlog.get_logger("test").info("during the command")
    borrowed.close()
    structlog.get_logger("test").info("after the command", case_id="PL-UA-2027-000001")
    logging.getLogger("test").warning("a standard-library record")
    after = capsys.readouterr().err.splitlines()
    assert json.loads(after[0])["event"] == "after the command"
    assert after[1] == "a standard-library record"
