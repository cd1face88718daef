"""Which task queues a worker process polls, from `readmit worker`'s options.

One place decides it, so that the command, the composition root (`workers/root.py`) and the
deployment tests read the options alike: `--state X` (repeatable) serves those states' queues,
none the demo set; the shared case queue is served beside them unless `--no-cases`;
`--cases-only` serves the case queue and no state's queue (Kubernetes' `readmit-worker-cases`,
issue 18), and so goes with neither `--state` nor `--no-cases`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workflows.contracts import cases_queue, state_queue

DEFAULT_STATES = ("UA", "MD", "PL", "RO", "DE")


class QueueOptionsError(ValueError):
    """Options that contradict each other or name no state; the message says which."""


@dataclass(frozen=True)
class QueueSelection:
    """The states whose queues a worker serves, and whether it serves the case queue."""

    states: tuple[str, ...]
    cases: bool

    def task_queues(self, prefix: str) -> list[str]:
        """The task queues polled under `prefix`: the case queue first, then each state's."""
        queues = [cases_queue(prefix)] if self.cases else []
        return queues + [state_queue(state, prefix) for state in self.states]


def select_queues(
    states: Sequence[str] | None, *, cases: bool | None = None, cases_only: bool = False
) -> QueueSelection:
    """The queues the options name. `cases` is None when neither `--cases` nor `--no-cases`
    was given (the case queue is then served). Raises `QueueOptionsError` on a contradiction
    or a state that is not an ISO 3166 alpha-2 code."""
    if cases_only:
        if states:
            raise QueueOptionsError("--cases-only serves no state's queue: drop --state")
        if cases is False:
            raise QueueOptionsError("--cases-only and --no-cases contradict each other")
        return QueueSelection((), True)
    return QueueSelection(tuple(checked_states(states or DEFAULT_STATES)), cases is not False)


def checked_states(states: Sequence[str]) -> list[str]:
    """`states` upper-cased; anything but ISO 3166 alpha-2 codes is a usage error."""
    upper = [s.upper() for s in states]
    bad = [s for s in upper if len(s) != 2 or not s.isalpha()]
    if bad:
        raise QueueOptionsError(f"ISO 3166 alpha-2 codes only, not {', '.join(bad)}")
    return upper
