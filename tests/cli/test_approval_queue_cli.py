"""`readmit case list --awaiting-approval` and the workload's count against the real API over
HTTP, where Ukraine's replies under EU-UA await a supervisor's approval: the requested state's
supervisor lists the drafted case (JSON and table), the requesting state's officer lists none;
`readmit workload` counts it; the queue empties once the supervisor approves."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from served_api import ServedApi
from test_case_cli import PERSON, Terminal
from test_reply_approval_cli import approval_policy  # noqa: F401 (a fixture)
from test_workload_cli import readmit_workload

pytestmark = pytest.mark.temporal


async def test_the_approval_queue_through_the_cli(
    approval_policy: None,  # noqa: F811 (the fixture imported above)
    served_api: ServedApi,
) -> None:
    anna = Terminal(served_api, served_api.token("anna.pl", "officer", "PL"))
    olena = Terminal(served_api, served_api.token("olena.ua", "officer", "UA"))
    supervisor = served_api.token("taras.ua", "supervisor", "UA")
    taras = Terminal(served_api, supervisor)
    known = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    opened = await anna(
        "open", "--agreement", "eu-ua", "--requested", "UA", "--category", "own_national",
        *PERSON, "--evidence", "passport:FA123456", "--knowledge-at", known,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    case_id = opened.stdout.strip()
    assert (await anna("submit", case_id)).exit_code == 0
    assert (await olena("accept", case_id)).exit_code == 0

    queue = await taras("--json", "list", "--awaiting-approval")
    assert queue.exit_code == 0, queue.output
    assert [c["case_id"] for c in json.loads(queue.stdout)] == [case_id]
    table = await taras("list", "--awaiting-approval")
    assert table.exit_code == 0 and case_id in table.stdout, table.output
    # the requesting state never learns of the draft
    theirs = await anna("--json", "list", "--awaiting-approval")
    assert theirs.exit_code == 0 and json.loads(theirs.stdout) == [], theirs.output
    assert (await anna("list", "--awaiting-approval")).stdout.strip() == "no cases"

    counted = await readmit_workload(served_api, supervisor)
    assert counted.exit_code == 0, counted.output
    assert json.loads(counted.stdout)["awaiting_approval"] == 1
    shown = await readmit_workload(served_api, supervisor, "--table")
    assert "replies awaiting approval: 1" in shown.stdout, shown.output

    assert (await taras("approve", case_id)).exit_code == 0
    empty = await taras("--json", "list", "--awaiting-approval")
    assert json.loads(empty.stdout) == []
