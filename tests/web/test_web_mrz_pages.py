""" "Read from a scan" routes without a browser: who may post a scan (officers of the case's
requesting side; an auditor gets 403, another state's officer 404 as for any case it cannot
see), a forged form is refused, and an upload that is no image comes back as the form's error
with what the officer had typed still there. The evidence form refuses a missing kind."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from test_web_pages import csrf_of, open_case, sign_in
from web_support import Web

pytestmark = pytest.mark.temporal


def scan(data: bytes, name: str = "scan.png") -> dict[str, tuple[str, bytes, str]]:
    return {"scan": (name, data, "image/png")}


async def follow(http: httpx.AsyncClient, answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    page = await http.get(answer.headers["location"].split("#")[0])
    assert page.status_code == 200
    return page.text


async def test_scans_are_read_only_for_the_cases_writers(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    case_id = await open_case(http, datetime.now(UTC))
    form = await http.get("/ui/cases/new")
    token = csrf_of(form.text)

    forged = await http.post("/ui/cases/new/mrz", data={"csrf": "forged"}, files=scan(b"x"))
    assert forged.status_code == 403

    typed = {"csrf": token, "person.surname": "Typed", "evidence.0.kind": "passport"}
    answer = await http.post("/ui/cases/new/mrz", data=typed, files=scan(b"%PDF-1.4 not a scan"))
    html = await follow(http, answer)
    assert "not a PNG or JPEG image" in html
    assert 'value="Typed"' in html and 'value="passport"' in html

    nothing = await http.post("/ui/cases/new/mrz", data={"csrf": token})
    assert "Choose an image of the document first." in await follow(http, nothing)

    case_page = await http.get(f"/ui/cases/{case_id}")
    assert 'id="mrz_evidence"' in case_page.text
    no_kind = await http.post(
        f"/ui/cases/{case_id}/evidence", data={"csrf": csrf_of(case_page.text), "number": "X1"}
    )
    assert "Enter the kind of document." in await follow(http, no_kind)

    await sign_in(http, "audit.pl")
    page = await http.get(f"/ui/cases/{case_id}")
    assert 'id="mrz_evidence"' not in page.text  # auditors read, never write
    refused = await http.post(
        "/ui/cases/new/mrz", data={"csrf": csrf_of(page.text)}, files=scan(b"x")
    )
    assert refused.status_code == 403

    await sign_in(http, "hans.de")
    page = await http.get("/ui/cases/new")
    hidden = await http.post(
        f"/ui/cases/{case_id}/mrz", data={"csrf": csrf_of(page.text)}, files=scan(b"x")
    )
    assert hidden.status_code == 404
