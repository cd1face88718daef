"""A transit case through the pages: the open form's transit fields, the case page's transit
section and forms, and statistics that count transit cases apart."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from test_web_pages import csrf_of, idem_of, sign_in
from web_support import Web

pytestmark = pytest.mark.temporal


async def test_a_transit_case_through_the_forms(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "hans.de")
    now = (await web_http.env.get_current_time()).astimezone(ZoneInfo("Europe/Berlin"))
    form = await http.get("/ui/cases/new")
    html = form.text
    assert 'name="kind"' in html and 'name="transit.destination"' in html
    assert 'name="transit.planned_at"' in html and 'name="transit.flight.number"' in html
    data = {
        "csrf": csrf_of(html),
        "idem": idem_of(html),
        "kind": "transit",
        "agreement": "EU-MD",
        "requested": "MD",
        "category": "third_country_national",
        "procedure": "standard",
        "person.surname": "Beridze",
        "person.given_names": "Nino",
        "person.birth_date": "1991-03-02",
        "transit.destination": "ge",
        "transit.assurance.reference": "GE-MIA-2027/118",
        "transit.assurance.given_on": (now - timedelta(days=3)).date().isoformat(),
        "transit.planned_at": (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        "transit.entry_point": "Chișinău International Airport",
        "transit.exit_point": "Chișinău International Airport",
        "transit.escorts": "2",
        "transit.flight.number": "9U 171",
    }
    # the API's messages come back field by field
    bad = await http.post("/ui/cases", data={**data, "transit.escorts": "99"})
    assert bad.status_code == 303
    shown = await http.get(bad.headers["location"])
    assert 'aria-invalid="true"' in shown.text and "less than or equal to 20" in shown.text
    form = await http.get("/ui/cases/new")
    data |= {"csrf": csrf_of(form.text), "idem": idem_of(form.text)}
    opened = await http.post("/ui/cases", data=data)
    assert opened.status_code == 303, opened.text
    case_id = opened.headers["location"].rsplit("/", 1)[1]
    assert case_id.startswith("DE-MD-")

    page = await http.get(f"/ui/cases/{case_id}")
    assert 'id="case-kind"' in page.text and 'id="transit"' in page.text
    assert "GE-MIA-2027/118" in page.text and "9U 171" in page.text
    assert "Identity verification" not in page.text
    submitted = await http.post(
        f"/ui/cases/{case_id}/actions/submit",
        data={"csrf": csrf_of(page.text), "idem": idem_of(page.text, "-submit")},
    )
    assert submitted.status_code == 303

    await sign_in(http, "ion.md")
    page = await http.get(f"/ui/cases/{case_id}")
    assert 'id="action-consent_transit"' in page.text and 'id="action-accept"' not in page.text
    consented = await http.post(
        f"/ui/cases/{case_id}/actions/consent_transit",
        data={"csrf": csrf_of(page.text), "idem": idem_of(page.text, "-consent_transit")},
    )
    assert consented.status_code == 303
    after = await http.get(consented.headers["location"])
    assert "Consented" in after.text

    await sign_in(http, "hans.de")
    page = await http.get(f"/ui/cases/{case_id}")
    on = (now + timedelta(days=11)).strftime("%Y-%m-%dT%H:%M")
    scheduled = await http.post(
        f"/ui/cases/{case_id}/actions/schedule_transit",
        data={
            "csrf": csrf_of(page.text),
            "idem": idem_of(page.text, "-schedule_transit"),
            "on": on,
            "entry_point": "KIV",
            "exit_point": "KIV",
            "escorts": "2",
            "flight.number": "9U 171",
        },
    )
    assert scheduled.status_code == 303
    page = await http.get(f"/ui/cases/{case_id}")
    assert 'id="transit-plan"' in page.text and "Transit scheduled" in page.text

    # statistics: the transit is counted with transit cases only
    readmission = await http.get("/ui/stats")
    assert readmission.status_code == 200
    transit = await http.get("/ui/stats", params={"kind": "transit"})
    assert transit.status_code == 200 and "Deemed consents" in transit.text
    assert "EU-MD · MD" in transit.text and "EU-MD · MD" not in readmission.text
    rows = list(csv.DictReader(io.StringIO((await http.get("/ui/stats.csv?kind=transit")).text)))
    total = rows[-1]
    assert total["kind"] == "transit" and total["cases"] == "1"
    assert total["status_transit_scheduled"] == "1"
    assert (await http.get("/ui/stats", params={"kind": "asylum"})).status_code == 422
    assert datetime.now()  # the pages never needed the test's clock
