"""The pages of readmission in error and of the person's correction: each side's forms from the
catalogue, the API's messages back on the form, the case page's account of the claim, and the
auditor's view of which version of the person applied when."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
import pytest
from test_web_pages import csrf_of, idem_of, open_case, sign_in
from web_support import Web

pytestmark = pytest.mark.temporal


async def act(
    http: httpx.AsyncClient, case_id: str, action: str, fields: dict[str, str] | None = None
) -> str:
    """Post `action`'s form from the case page; the page it leads back to."""
    page = (await http.get(f"/ui/cases/{case_id}")).text
    assert f'id="action-{action}"' in page, f"no {action} form"
    data = {"csrf": csrf_of(page), "idem": idem_of(page, f"-{action}"), **(fields or {})}
    answer = await http.post(f"/ui/cases/{case_id}/actions/{action}", data=data)
    assert answer.status_code == 303, answer.text
    return (await http.get(answer.headers["location"])).text


def status_of(page: str) -> str:
    found = re.search(r'id="case-status">([^<]+)<', page)
    assert found
    return found.group(1)


async def test_readmission_in_error_through_the_forms(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    env = web_http.env
    await sign_in(http, "anna.pl")
    case_id = await open_case(http, await env.get_current_time())
    await act(http, case_id, "submit")
    await sign_in(http, "olena.ua")
    await act(http, case_id, "accept")
    await sign_in(http, "anna.pl")
    on = (await env.get_current_time() + timedelta(days=2)).astimezone()
    plan = {"on": on.strftime("%Y-%m-%dT%H:%M"), "bcp": "Medyka–Shehyni", "mode": "land"}
    await act(http, case_id, "schedule_transfer", plan)
    await env.sleep(3 * 86400)
    await act(http, case_id, "complete_transfer")

    await sign_in(http, "olena.ua")
    page = await act(http, case_id, "claim_error", {"reasons": "no citizenship on record"})
    assert status_of(page) == "Readmission in error claimed"
    assert 'id="error-claim"' in page and "no citizenship on record" in page
    assert 'id="action-schedule_return"' not in page  # nothing for UA to do before the answer

    await sign_in(http, "anna.pl")
    page = (await http.get(f"/ui/cases/{case_id}")).text
    assert 'id="action-accept_error_claim"' in page and 'id="action-dispute_error_claim"' in page
    blank = await act(http, case_id, "dispute_error_claim", {"reasons": " \n "})
    assert 'aria-invalid="true"' in blank and "at least 1 item" in blank
    page = await act(http, case_id, "accept_error_claim", {"note": "we take the person back"})
    assert status_of(page) == "Error claim accepted"

    await sign_in(http, "olena.ua")
    page = (await http.get(f"/ui/cases/{case_id}")).text
    assert "Local time of the requested state (Europe/Kyiv)" in page
    back = (await env.get_current_time() + timedelta(days=2)).astimezone()
    wrong = {"on": back.strftime("%Y-%m-%dT%H:%M"), "bcp": "Nowhere", "mode": "land"}
    refused = await act(http, case_id, "schedule_return", wrong)
    assert "unknown border crossing point" in refused and status_of(refused) != "Return scheduled"
    plan = {**wrong, "bcp": "Medyka–Shehyni", "escorts": "1"}
    page = await act(http, case_id, "schedule_return", plan)
    assert status_of(page) == "Return scheduled" and "Return on" in page
    await env.sleep(3 * 86400)
    page = await act(http, case_id, "complete_return")
    for _ in range(50):  # the case closes by itself right after
        if status_of(page) == "Closed":
            break
        await asyncio.sleep(0.1)
        page = (await http.get(f"/ui/cases/{case_id}")).text
    assert status_of(page) == "Closed" and "Returned" in page
    assert "Nothing for your side to do on this case now." in page


async def test_correcting_the_person_and_what_the_auditor_sees(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    case_id = await open_case(http, await web_http.env.get_current_time())
    page = (await http.get(f"/ui/cases/{case_id}")).text
    form = page[page.index('id="action-amend_person"') :]
    assert 'name="person.surname"' in form and 'value="Shevchenko"' in form
    assert 'value="1990-05-17"' in form  # filled with the person as recorded
    fields = {
        "person.surname": "Shevchenko",
        "person.given_names": "Oleksandr",
        "person.birth_date": "17.05.1990",
    }
    bad = await act(http, case_id, "amend_person", fields)
    assert 'aria-invalid="true"' in bad and "person.birth_date" in bad
    corrected = {**fields, "person.birth_date": "1990-05-18", "person.other_names": "Olexandr"}
    page = await act(http, case_id, "amend_person", corrected)
    assert 'id="person-amended"' in page and "Olexandr" in page

    await sign_in(http, "audit.pl")
    audit = (await http.get(f"/ui/audit/cases/{case_id}")).text
    versions = audit[audit.index('id="person-versions"') :]
    assert versions.index("May 17, 1990") < versions.index("May 18, 1990")
    assert "Olexandr</td>" in versions
    assert "as corrected on" in audit  # the latest version applies now
    first = await http.get(f"/ui/audit/cases/{case_id}/replay", params={"version": "1"})
    assert "as opened" in first.text and "May 18, 1990" not in first.text
