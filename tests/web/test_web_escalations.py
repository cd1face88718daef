"""The case page's "acknowledge the escalation" form over HTTP (api/web/escalations.py): it
calls the API's own endpoint, so a refusal (nothing to acknowledge, an officer, an auditor who
may not write at all) comes back to the case page as the form's error, never as an error page,
and changes nothing. The acknowledgement itself: tests/api/test_escalation_api.py."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import httpx
import pytest
from test_web_pages import csrf_of, open_case, sign_in
from web_support import Web

pytestmark = pytest.mark.temporal


async def acknowledge(http: httpx.AsyncClient, case_id: str) -> str:
    """Post the form with the case page's CSRF token; the page the redirect leads back to."""
    html = (await http.get(f"/ui/cases/{case_id}")).text
    answer = await http.post(
        f"/ui/cases/{case_id}/escalations/acknowledge",
        data={"csrf": csrf_of(html), "idem": "web-test-escalation"},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/ui/cases/{case_id}#escalations"
    page = await http.get(f"/ui/cases/{case_id}")
    assert page.status_code == 200
    return page.text


async def test_a_refused_acknowledgement_is_the_forms_error(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    now = (await web_http.env.get_current_time()).astimezone(ZoneInfo("Europe/Warsaw"))
    case_id = await open_case(http, now)

    refusals = {
        "anna.pl": "a supervisor acknowledges an escalation",
        "piotr.pl": "no escalation of the requesting side awaits acknowledgement",
        "audit.pl": "auditor cannot act on cases",  # may not write: still the form's error
    }
    for user, refusal in refusals.items():
        await sign_in(http, user)
        html = await acknowledge(http, case_id)
        assert 'class="error-box"' in html and refusal in html, user
    events = await web_http.pool.fetchval(
        "SELECT count(*) FROM case_events WHERE stream_id = $1 AND type = 'EscalationAcknowledged'",
        case_id,
    )
    assert events == 0
