"""`readmit worker`'s queue options (issue 18): `--cases-only` serves the shared case queue and
no state's queue; it goes with neither `--state` nor `--no-cases` (one message naming the
options, exit 2, nothing started); the rest read as before. What the command hands the
composition root is checked here without a server; tests/temporal/test_worker_queues.py checks
the queues the built workers poll."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

import workers.command as command
from adapters import metrics
from adapters.settings import get_settings
from readmit.cli.main import app
from workers.queues import DEFAULT_STATES, QueueOptionsError, QueueSelection, select_queues


@pytest.mark.parametrize(
    ("states", "cases", "cases_only", "expected"),
    [
        (None, None, False, QueueSelection(DEFAULT_STATES, True)),
        (["pl"], None, False, QueueSelection(("PL",), True)),
        (["PL", "md"], False, False, QueueSelection(("PL", "MD"), False)),
        (["UA"], True, False, QueueSelection(("UA",), True)),
        (None, None, True, QueueSelection((), True)),
        (None, True, True, QueueSelection((), True)),
    ],
)
def test_options_select_the_queues(
    states: list[str] | None, cases: bool | None, cases_only: bool, expected: QueueSelection
) -> None:
    assert select_queues(states, cases=cases, cases_only=cases_only) == expected


def test_the_task_queues_of_a_selection() -> None:
    assert QueueSelection((), True).task_queues("readmit") == ["readmit-cases"]
    assert QueueSelection(("UA",), False).task_queues("x") == ["x-state-UA"]
    assert QueueSelection(("UA",), True).task_queues("x") == ["x-cases", "x-state-UA"]


@pytest.mark.parametrize(
    ("states", "cases", "message"),
    [(["UA"], None, "drop --state"), (None, False, "contradict"), (["UA"], False, "--state")],
)
def test_cases_only_refuses_what_contradicts_it(
    states: list[str] | None, cases: bool | None, message: str
) -> None:
    with pytest.raises(QueueOptionsError, match=message):
        select_queues(states, cases=cases, cases_only=True)


def test_a_state_that_is_no_code_is_refused() -> None:
    with pytest.raises(QueueOptionsError, match="alpha-2 codes only, not U1"):
        select_queues(["U1"])


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[list[str], bool]]]:
    """What `readmit worker` hands `serve` (the composition root), nothing started."""
    seen: list[tuple[list[str], bool]] = []

    async def serve(settings: Any, dsn: str, states: list[str], cases: bool) -> None:
        seen.append((states, cases))

    monkeypatch.setattr(command, "serve", serve)
    monkeypatch.setattr(command, "install_runtime", lambda **_: None)
    monkeypatch.setattr(metrics, "start_exporter", lambda _: None)
    monkeypatch.setattr(command, "record_certificate_expiry", lambda _: None)
    monkeypatch.setattr(command, "exit_now", lambda code=0: None)
    monkeypatch.setenv("READMIT_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("READMIT_TEMPORAL_ADDRESS", "127.0.0.1:1")
    get_settings.cache_clear()
    yield seen
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--cases-only"], ([], True)),
        (["--state", "UA", "--no-cases"], (["UA"], False)),
        (["--state", "UA"], (["UA"], True)),
        ([], (list(DEFAULT_STATES), True)),
    ],
)
def test_the_command_hands_the_root_the_selected_queues(
    served: list[tuple[list[str], bool]], args: list[str], expected: tuple[list[str], bool]
) -> None:
    result = CliRunner().invoke(app, ["worker", *args])
    assert result.exit_code == 0, result.output
    assert served == [expected]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--cases-only", "--state", "UA"], "--state"),
        (["--cases-only", "--no-cases"], "--no-cases"),
        (["--cases-only", "--no-cases", "--state", "PL"], "--state"),
    ],
)
def test_conflicting_options_exit_2_naming_them(
    served: list[tuple[list[str], bool]], args: list[str], named: str
) -> None:
    result = CliRunner().invoke(app, ["worker", *args])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "--cases-only" in text and named in text
    assert served == []  # nothing started
