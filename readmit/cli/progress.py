"""Progress of a long CLI job: a rich bar on a terminal, periodic plain lines elsewhere.

Both show done/total, failures, rate and ETA. On a terminal the bar redraws in place; in a log
file or a CI job a line every tenth of the work (or every `every_seconds`) keeps the output
short while still showing that the job moves.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

Traceback = TracebackType | None


class JobProgress(Protocol):
    def __enter__(self) -> JobProgress: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def advance(self, ok: bool) -> None: ...


class _Rate(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f} {self.unit}/s", style="progress.data")


class BarProgress:
    """A rich progress bar (for terminals)."""

    def __init__(self, console: Console, total: int, label: str, unit: str) -> None:
        self.failed = 0
        self._bar = Progress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            _Rate(unit),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
        )
        self._task = self._bar.add_task(label, total=total, failed=0)

    def __enter__(self) -> BarProgress:
        self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def advance(self, ok: bool) -> None:
        self.failed += not ok
        self._bar.update(self._task, advance=1, failed=self.failed)


class LineProgress:
    """Plain progress lines (for logs and pipes): one per tenth of the work, or sooner."""

    def __init__(
        self, stream: TextIO, total: int, label: str, unit: str, every_seconds: float = 10.0
    ) -> None:
        self.stream, self.total, self.label, self.unit = stream, total, label, unit
        self.every_seconds = every_seconds
        self.done = self.failed = self._shown = 0
        self._started = self._last = time.monotonic()
        self._next_step = 1

    def __enter__(self) -> LineProgress:
        self._started = self._last = time.monotonic()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.done != self._shown:  # end on a line with the final count
            self._line(time.monotonic())

    def advance(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        now = time.monotonic()
        step = self.done * 10 // max(self.total, 1)
        if step >= self._next_step or now - self._last >= self.every_seconds:
            self._next_step = step + 1
            self._line(now)

    def _line(self, now: float) -> None:
        self._last, self._shown = now, self.done
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        left = max(self.total - self.done, 0)
        eta = f"{left / rate:.0f} s" if rate > 0 else "?"
        percent = 100 * self.done // max(self.total, 1)
        self.stream.write(
            f"{self.label}: {self.done}/{self.total} ({percent}%), {self.failed} failed, "
            f"{rate:,.1f} {self.unit}/s, ETA {eta}\n"
        )
        self.stream.flush()


def job_progress(
    stream: TextIO, total: int, label: str, unit: str, *, terminal: bool | None = None
) -> JobProgress:
    """A bar if `stream` is a terminal (or `terminal` says so), else plain lines."""
    console = Console(file=stream)
    if console.is_terminal if terminal is None else terminal:
        return BarProgress(console, total, label, unit)
    return LineProgress(stream, total, label, unit)
