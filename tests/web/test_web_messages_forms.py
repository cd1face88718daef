"""The Messages section's form without a browser: a refused message comes back to the form with
the reason and the text typed, an auditor reads the conversation but has no form and is refused
if posting anyway, and a draft offers no form (its other state does not know it yet)."""

from __future__ import annotations

import pytest
from test_web_error_procedure import act
from test_web_pages import csrf_of, idem_of, open_case, sign_in
from web_support import Web

pytestmark = pytest.mark.temporal

NOTE = "Our interpreter will attend"


async def test_the_message_form_and_who_sees_it(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    case_id = await open_case(http, await web_http.env.get_current_time())
    draft = (await http.get(f"/ui/cases/{case_id}")).text
    assert 'id="messages"' in draft and 'action="/ui/cases/' + case_id + '/messages"' not in draft
    await act(http, case_id, "submit")

    page = (await http.get(f"/ui/cases/{case_id}")).text
    form = {"csrf": csrf_of(page), "idem": idem_of(page, "-message")}
    # the requesting state may not ask for an interview: the case's reason, the text kept
    refused = await http.post(
        f"/ui/cases/{case_id}/messages",
        data={**form, "kind": "request_interview", "text": NOTE},
    )
    assert refused.status_code == 303
    back = (await http.get(refused.headers["location"])).text
    assert 'id="send_case_message-problem"' in back and "requested state" in back
    assert NOTE in back  # typed again for the officer
    assert 'id="conversation"' not in back
    sent = await http.post(
        f"/ui/cases/{case_id}/messages",
        data={
            "csrf": csrf_of(back),
            "idem": idem_of(back, "-message"),
            "kind": "note",
            "text": NOTE,
        },
    )
    assert sent.status_code == 303
    shown = (await http.get(sent.headers["location"])).text
    assert "Message sent." in shown and 'id="conversation"' in shown and NOTE in shown

    await sign_in(http, "audit.pl")
    audited = (await http.get(f"/ui/cases/{case_id}")).text
    assert NOTE in audited and "Send the message" not in audited
    posted = await http.post(
        f"/ui/cases/{case_id}/messages",
        data={"csrf": csrf_of(audited), "kind": "note", "text": "an auditor's note"},
    )
    assert posted.status_code == 403
    rows = await web_http.pool.fetch(
        "SELECT 1 FROM case_events WHERE stream_id = $1 AND type = 'CaseMessageSent'", case_id
    )
    assert len(rows) == 1
