"""The MRZ of a shared case's file on federated nodes: reading it is a read on the caller's own
node, of the copy sealed with that node's case key; nothing crosses (no message is sent) and
the reading is in that node's disclosure log."""

from __future__ import annotations

import mrz_specimens as specimens
import pytest
from federation_nodes import Nodes
from test_attachments_federation import attach, receipted
from test_exchange_failures import submitted_case

pytestmark = pytest.mark.temporal


async def test_the_other_node_reads_the_mrz_of_a_file_it_received(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    case_id = await submitted_case(nodes)
    photo = specimens.phone_photo(
        specimens.render(specimens.TD3_UKRAINE), angle=2, scale=0.6, jpeg=80
    )
    added = await attach(pl, case_id, "anna.pl", "passport.jpg", photo)
    assert added.status_code == 202, added.text
    await receipted(pl, case_id)
    sent = len(await pl.exchange.messages(case_id)) + len(await ua.exchange.messages(case_id))

    url = f"{added.json()['download']}/mrz"
    read = await ua.http.post(url, headers=ua.as_("olena.ua"))
    assert read.status_code == 200, read.text
    assert read.json()["suggested"]["evidence"] == {"kind": "passport", "number": "FA123456"}
    # a read on UA's node: nothing sent either way, the reading in UA's own disclosure log
    assert (
        len(await pl.exchange.messages(case_id)) + len(await ua.exchange.messages(case_id)) == sent
    )
    logged = await ua.pool.fetch(
        "SELECT user_id FROM disclosure_log WHERE case_id = $1 AND purpose = 'mrz reading'",
        case_id,
    )
    assert [r["user_id"] for r in logged] == ["olena.ua"]
    assert not await pl.pool.fetchval(
        "SELECT count(*) FROM disclosure_log WHERE case_id = $1 AND purpose = 'mrz reading'",
        case_id,
    )
