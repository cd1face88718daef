"""The case page's "Assignment" section over HTTP: an officer claims and releases their side, a
supervisor assigns it to an officer of their state, refusals come back as the page's error,
auditors see the assignees but no buttons, and a closed case offers nothing."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import httpx
import pytest
from assignment_support import with_second_officer
from test_web_pages import csrf_of, idem_of, open_case, sign_in
from web_support import Web

pytestmark = pytest.mark.temporal


async def page_of(http: httpx.AsyncClient, case_id: str) -> str:
    answer = await http.get(f"/ui/cases/{case_id}")
    assert answer.status_code == 200, answer.text
    return answer.text


def assignee(html: str, side: str) -> str:
    """The text the section shows for `side`'s assignee, tags stripped."""
    found = re.search(rf'<dd id="assignee-{side}">(.*?)</dd>', html, re.S)
    assert found, f"no assignee shown for the {side} side"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


async def post(http: httpx.AsyncClient, case_id: str, html: str, action: str, **fields: str) -> str:
    """Post `action`'s form with the page's tokens; the page the redirect leads back to."""
    token = idem_of(html).rsplit("-", 1)[0]  # the page's one-time token, one per form
    answer = await http.post(
        f"/ui/cases/{case_id}/actions/{action}",
        data={"csrf": csrf_of(html), "idem": f"{token}-{action}", **fields},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(f"/ui/cases/{case_id}")
    return await page_of(http, case_id)


async def test_claim_release_and_assign_through_the_case_page(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await with_second_officer(web_http.pool)
    await sign_in(http, "anna.pl")
    now = (await web_http.env.get_current_time()).astimezone(ZoneInfo("Europe/Warsaw"))
    case_id = await open_case(http, now)

    html = await page_of(http, case_id)
    assert 'id="assignment"' in html
    assert assignee(html, "requesting") == assignee(html, "requested") == "unassigned"
    assert 'id="action-claim_case"' in html and 'id="action-release_case"' not in html
    assert 'name="officer"' not in html  # an officer claims; only supervisors assign

    html = await post(http, case_id, html, "claim_case")
    assert "The case is now assigned to you." in html
    assert assignee(html, "requesting") == "assigned to you"
    assert 'id="action-release_case"' in html and 'id="action-claim_case"' not in html

    # another officer of the state sees who holds it, and a claim of theirs is refused
    await sign_in(http, "marek.pl")
    html = await page_of(http, case_id)
    assert assignee(html, "requesting") == "assigned to Anna Nowak (anna.pl)"
    assert 'id="action-claim_case"' not in html and 'id="action-release_case"' not in html
    refused = await post(http, case_id, html, "claim_case")
    assert 'class="error-box"' in refused
    assert "Claim the case: assigned to anna.pl: a supervisor reassigns" in refused

    await sign_in(http, "anna.pl")
    html = await post(http, case_id, await page_of(http, case_id), "release_case")
    assert "You released the case: your side has no assignee now." in html
    assert assignee(html, "requesting") == "unassigned"

    # the supervisor assigns it to an officer of Poland, never to one of another state
    await sign_in(http, "piotr.pl")
    html = await page_of(http, case_id)
    options = re.findall(r'<option value="([^"]+)"', html.split('name="officer"', 1)[1])
    assert {"anna.pl", "marek.pl", "piotr.pl"} <= set(options)
    assert "olena.ua" not in options and "audit.pl" not in options
    assert 'id="action-claim_case"' in html  # a supervisor may take it too
    html = await post(http, case_id, html, "assign_case", officer="marek.pl")
    assert "The case is now assigned to marek.pl." in html
    assert assignee(html, "requesting") == "assigned to Marek Wójcik (marek.pl)"
    options = re.findall(r'<option value="([^"]+)"', html.split('name="officer"', 1)[1])
    assert "marek.pl" not in options  # reassigning offers the others
    refused = await post(http, case_id, html, "assign_case", officer="olena.ua")
    assert "Assign the case: olena.ua is not an officer of PL" in refused
    missing = await post(http, case_id, html, "assign_case")
    assert 'aria-invalid="true"' in missing  # the select is marked, nothing recorded

    await sign_in(http, "marek.pl")
    html = await page_of(http, case_id)
    assert assignee(html, "requesting") == "assigned to you"
    assert 'id="action-release_case"' in html

    # an auditor sees who holds each side, and no button
    await sign_in(http, "audit.pl")
    html = await page_of(http, case_id)
    assert assignee(html, "requesting") == "assigned to marek.pl"
    for form in ("claim_case", "release_case", "assign_case"):
        assert f'id="action-{form}"' not in html
    assert 'name="officer"' not in html
    forbidden = await http.post(
        f"/ui/cases/{case_id}/actions/claim_case",
        data={"csrf": csrf_of(html), "idem": "auditor-claim-1"},
    )
    assert forbidden.status_code == 403


async def test_a_closed_case_offers_no_assignment(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    now = (await web_http.env.get_current_time()).astimezone(ZoneInfo("Europe/Warsaw"))
    case_id = await open_case(http, now)
    html = await page_of(http, case_id)
    html = await post(http, case_id, html, "withdraw", reasons="The person left.")
    html = await page_of(http, case_id)  # a draft withdrawn closes at once
    assert 'id="case-status"' in html and ">Closed<" in html
    assert assignee(html, "requesting") == "unassigned"
    assert 'id="action-claim_case"' not in html
    await sign_in(http, "piotr.pl")
    html = await page_of(http, case_id)
    assert 'id="action-claim_case"' not in html and 'name="officer"' not in html
