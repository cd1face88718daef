"""Moving a prefix's case numbering forward, never back (issue 18: restored databases).

Case numbers are handed out by `case_queries.next_case_id` (`case_numbers`, one counter per
`<requesting>-<requested>-<year>` prefix) while the case workflows live in Temporal. A database
restored from an older dump, or reset while Temporal keeps its data, hands out numbers whose
workflows already exist; `adapters/temporal/case_numbers.py` finds the existing ones and moves
the counter past them here. The counter only ever grows: two processes advancing it at once
keep the larger value.
"""

from __future__ import annotations

import asyncpg


async def advance_past(pool: asyncpg.Pool, prefix: str, number: int) -> int:
    """Make the next number handed out for `prefix` greater than `number` (unless it already
    is); returns the counter's value afterwards."""
    value = await pool.fetchval(
        "INSERT INTO case_numbers (prefix, last) VALUES ($1, $2)"
        " ON CONFLICT (prefix) DO UPDATE SET last = GREATEST(case_numbers.last, EXCLUDED.last)"
        " RETURNING last",
        prefix,
        number,
    )
    return int(value)


async def last_number(pool: asyncpg.Pool, prefix: str) -> int:
    """The last number handed out for `prefix` (0 when none was)."""
    value = await pool.fetchval("SELECT last FROM case_numbers WHERE prefix = $1", prefix)
    return int(value or 0)
