"""A case number whose workflow id is free in Temporal (issue 18: restored databases).

Numbers come from PostgreSQL (`case_queries.next_case_id`), workflows live in Temporal. After
the database is restored from an older dump, or reset while Temporal keeps its data, the counter
hands out numbers whose workflows already exist (running or closed); opening such a case would
fail ("already open") or, for a closed one, start a second run under the same id.
`fresh_case_id` checks the number it got against Temporal; on a collision it finds the end of
the run of existing workflows (doubling steps, then halving: a few dozen lookups even for a
counter a million behind), moves the counter past it, so later openings no longer collide, and
draws again. It is bounded (`MAX_ROUNDS` draws) and logged, without personal data: a case id
names two states, a year and a number. A number whose workflow exists is never handed out; the
gateway's `open` also refuses to start a second run of a closed workflow (`CaseNumberTaken`).
"""

from __future__ import annotations

import asyncpg
import structlog
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.db.case_numbers import advance_past
from adapters.db.case_queries import next_case_id

log = structlog.get_logger(__name__)

MAX_ROUNDS = 5  # draws before giving up (each after moving the counter past what was found)
LARGEST = 999_999  # six digits


class CaseNumbersExhausted(Exception):
    """No free case number could be drawn for a prefix (its numbers are used up, or another
    process keeps taking the ones this one finds free)."""


async def workflow_exists(client: Client, workflow_id: str) -> bool:
    """Whether Temporal has a run (running or closed, within retention) of `workflow_id`."""
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def fresh_case_id(
    pool: asyncpg.Pool, client: Client, requesting: str, requested: str, year: int
) -> str:
    """The next case id of `requesting`-`requested`-`year` that no workflow in Temporal has."""
    prefix = f"{requesting}-{requested}-{year}"
    for _ in range(MAX_ROUNDS):
        case_id = await next_case_id(pool, requesting, requested, year)
        if not await workflow_exists(client, case_id):
            return case_id
        taken = int(case_id.rsplit("-", 1)[1])
        last = await _last_taken(client, prefix, taken)
        await advance_past(pool, prefix, last)
        log.warning(
            "case_numbers.collision",
            case_id=case_id,
            advanced_past=f"{prefix}-{last:06d}",
            reason="a workflow already has this id: the database is older than Temporal",
        )
    raise CaseNumbersExhausted(f"no free case number for {prefix} after {MAX_ROUNDS} draws")


async def _last_taken(client: Client, prefix: str, taken: int) -> int:
    """A number at or after `taken` whose workflow exists while the next one's does not: the
    end of the run of existing workflows that `taken` belongs to (numbers are handed out in
    order, so the run has no holes but those of openings that failed before starting one)."""

    async def exists(number: int) -> bool:
        return await workflow_exists(client, f"{prefix}-{number:06d}")

    low, step = taken, 1  # low: known to exist
    high = taken + 1
    while high <= LARGEST and await exists(high):
        low, step = high, step * 2
        high = min(taken + step, LARGEST + 1)
    while high - low > 1:  # low exists, high does not (LARGEST + 1 is never looked up)
        middle = (low + high) // 2
        if await exists(middle):
            low = middle
        else:
            high = middle
    if low >= LARGEST:
        raise CaseNumbersExhausted(f"every case number of {prefix} up to {low:06d} is used")
    return low
