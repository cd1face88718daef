"""The case page's upload form when the case refuses the file (here: a withdrawn draft): the
refusal comes back in the page's flash, as the other forms' refusals do, not as a 500 page,
and nothing is stored."""

from __future__ import annotations

import base64
import json
import re
from zoneinfo import ZoneInfo

import pytest
from attachment_files import png
from test_web_assignment import page_of, post
from test_web_pages import csrf_of, open_case, sign_in
from web_support import Web

pytestmark = pytest.mark.temporal


async def test_a_refused_upload_comes_back_to_the_form(web_http: Web) -> None:
    http = web_http.http
    assert http is not None
    await sign_in(http, "anna.pl")
    now = (await web_http.env.get_current_time()).astimezone(ZoneInfo("Europe/Warsaw"))
    case_id = await open_case(http, now)
    html = await post(
        http, case_id, await page_of(http, case_id), "withdraw", reasons="opened by mistake"
    )
    answer = await http.post(
        f"/ui/cases/{case_id}/attachments",
        data={"csrf": csrf_of(html)},
        files={"file": ("scan.png", png(21), "image/png")},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(f"/ui/cases/{case_id}")
    flash = re.search(r'readmit_flash="?([A-Za-z0-9+/=]+)\.', answer.headers["set-cookie"])
    assert flash, answer.headers["set-cookie"]
    said = json.loads(base64.b64decode(flash.group(1)))
    assert said == {"error": "add_attachment: the case is closed", "form": "add_attachment"}
    stored = await web_http.pool.fetchval(
        "SELECT count(*) FROM case_attachments WHERE case_id = $1", case_id
    )
    assert stored == 0
