"""`POST /cases` after the database's numbering went back (issue 18: a restore older than
Temporal): the request succeeds, 201, with a number past every existing workflow, never the
"already open" refusal of a number whose workflow exists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_harness import Api
from factories import application_body

pytestmark = pytest.mark.temporal


async def test_opening_after_the_numbering_went_back_gets_a_fresh_number(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    now = datetime.now(UTC)
    body = {**application_body(), "knowledge_at": (now - timedelta(days=2)).isoformat()}
    prefix = f"PL-UA-{now.year}"

    async def opened() -> str:
        answer = await api.http.post("/cases", json=body, headers=anna)
        assert answer.status_code == 201, answer.text
        case_id: str = answer.json()["case_id"]
        return case_id

    assert [await opened() for _ in range(3)] == [f"{prefix}-{n:06d}" for n in (1, 2, 3)]
    await api.pool.execute("DELETE FROM case_numbers")  # restored from before the first
    assert await opened() == f"{prefix}-000004"
    assert await opened() == f"{prefix}-000005"
