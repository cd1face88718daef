"""The case page's "Assignment" section on federated nodes: each node shows and changes its own
side's assignee through the page (a node's own business, never sent to the peer), and says the
other side's is kept on the other node."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest
from federation_nodes import Node, Nodes
from test_exchange_failures import events, submitted_case

from adapters.directory import import_directory, load_directory
from adapters.temporal.codec import Keyring
from api.web.session import FLASH_COOKIE, SESSION_COOKIE, start_session

pytestmark = pytest.mark.temporal


async def signed_in(node: Node, user: str, role: str = "officer") -> dict[str, str]:
    """The cookie header of a page session for `user` of the node's state."""
    token = node.as_(user, role)["Authorization"][7:]
    principal = await node.services.verifier.verify(token)
    cookie = await start_session(node.services, principal, "token")
    return {"Cookie": f"{SESSION_COOKIE}={cookie}"}


async def page(node: Node, case_id: str, session: dict[str, str]) -> str:
    answer = await node.http.get(f"/ui/cases/{case_id}", headers=session)
    assert answer.status_code == 200, answer.text
    return str(answer.text)


async def post(
    node: Node, case_id: str, session: dict[str, str], action: str, **fields: str
) -> str:
    html = await page(node, case_id, session)
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf is not None
    answer = await node.http.post(
        f"/ui/cases/{case_id}/actions/{action}",
        data={"csrf": csrf.group(1), "idem": f"node-page-{action}-1", **fields},
        headers=session,
    )
    assert answer.status_code == 303, answer.text
    flash = answer.cookies.get(FLASH_COOKIE)  # the notice or error, shown once
    cookie = session["Cookie"] + (f"; {FLASH_COOKIE}={flash}" if flash else "")
    return await page(node, case_id, {"Cookie": cookie})


def assignee(html: str, side: str) -> str:
    found = re.search(rf'<dd id="assignee-{side}">(.*?)</dd>', html, re.S)
    assert found, side
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


async def test_each_node_assigns_its_own_side_through_the_page(nodes: Nodes) -> None:
    pl, ua = nodes["PL"], nodes["UA"]
    officers = load_directory(Path(str(files("readmit.demo") / "officers.toml")))
    async with ua.pool.acquire() as conn:
        master = Keyring.from_encoded({"test": Keyring.new_key()}, "test", what="master")
        await import_directory(conn, [o for o in officers if o.state == "UA"], master=master)
    case_id = await submitted_case(nodes)
    sent = len(await pl.exchange.messages(case_id))
    ua_before = await events(ua, case_id)

    olena = await signed_in(ua, "olena.ua")
    html = await page(ua, case_id, olena)
    assert assignee(html, "requested") == "unassigned"
    assert assignee(html, "requesting") == "kept on PL's own node"
    html = await post(ua, case_id, olena, "claim_case")
    assert "The case is now assigned to you." in html
    assert assignee(html, "requested") == "assigned to you"
    assert await events(ua, case_id) == [*ua_before, "CaseAssigned"]

    taras = await signed_in(ua, "taras.ua", "supervisor")
    html = await page(ua, case_id, taras)
    assert 'name="officer"' in html and 'value="taras.ua"' in html
    html = await post(ua, case_id, taras, "assign_case", officer="taras.ua")
    assert assignee(html, "requested") == "assigned to you"
    assert (await ua.view(case_id)).state.assignees == {"requested": "taras.ua"}

    anna = await signed_in(pl, "anna.pl")
    html = await page(pl, case_id, anna)
    assert assignee(html, "requested") == "kept on UA's own node"
    html = await post(pl, case_id, anna, "claim_case")
    assert assignee(html, "requesting") == "assigned to you"
    assert (await pl.view(case_id)).state.assignees == {"requesting": "anna.pl"}
    assert len(await pl.exchange.messages(case_id)) == sent  # nothing crossed either way
