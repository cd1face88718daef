"""The search for the end of a run of existing workflows (`adapters/temporal/case_numbers.py`):
a few dozen lookups even when the counter is far behind, the last existing number found, and
no number past the six digits handed out."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.service import RPCError, RPCStatusCode

from adapters.temporal.case_numbers import CaseNumbersExhausted, _last_taken

PREFIX = "PL-UA-2027"


class Temporal:
    """A client whose namespace holds the workflows `PREFIX-1` to `PREFIX-last`."""

    def __init__(self, last: int) -> None:
        self.last = last
        self.lookups = 0

    def get_workflow_handle(self, workflow_id: str) -> Any:
        number = int(workflow_id.rsplit("-", 1)[1])
        temporal = self

        class Handle:
            async def describe(self) -> None:
                temporal.lookups += 1
                if number > temporal.last:
                    raise RPCError("not found", RPCStatusCode.NOT_FOUND, b"")

        return Handle()


@pytest.mark.parametrize("last", [1, 2, 3, 17, 70_000, 999_998])
async def test_the_end_of_the_run_is_found_in_few_lookups(last: int) -> None:
    temporal = Temporal(last)
    assert await _last_taken(temporal, PREFIX, 1) == last  # type: ignore[arg-type]
    assert temporal.lookups <= 45


async def test_a_prefix_whose_numbers_are_used_up_is_refused() -> None:
    with pytest.raises(CaseNumbersExhausted, match="every case number of PL-UA-2027"):
        await _last_taken(Temporal(999_999), PREFIX, 5)  # type: ignore[arg-type]
