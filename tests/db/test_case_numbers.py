"""Moving the case numbering forward (issue 18), as the runtime role the API logs in as: the
counter grows past a number, never goes back, and a prefix never numbered starts past it."""

from __future__ import annotations

import asyncpg

from adapters.db.case_numbers import advance_past, last_number
from adapters.db.case_queries import next_case_id


async def test_the_counter_moves_forward_only(runtime_pool: asyncpg.Pool) -> None:
    assert await last_number(runtime_pool, "PL-UA-2027") == 0
    assert await next_case_id(runtime_pool, "PL", "UA", 2027) == "PL-UA-2027-000001"
    assert await advance_past(runtime_pool, "PL-UA-2027", 41) == 41
    assert await advance_past(runtime_pool, "PL-UA-2027", 7) == 41  # never back
    assert await next_case_id(runtime_pool, "PL", "UA", 2027) == "PL-UA-2027-000042"
    # a prefix with no row yet (an empty or older database)
    assert await advance_past(runtime_pool, "PL-MD-2027", 3) == 3
    assert await next_case_id(runtime_pool, "PL", "MD", 2027) == "PL-MD-2027-000004"
    assert await last_number(runtime_pool, "PL-MD-2027") == 4
