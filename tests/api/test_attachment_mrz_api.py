"""`POST /cases/{id}/attachments/{attachment_id}/mrz` over HTTP: a passport photo already in
the case's files is read as `POST /mrz/read` reads an upload, the read of its bytes is in the
disclosure log as an MRZ reading; a PDF is 415 (nothing read), an image without a zone 422, an
auditor 403, another state's officer 404, an erased case 410. Two OCR readings in all."""

from __future__ import annotations

from datetime import UTC, datetime

import mrz_specimens as specimens
import pytest
from api_harness import Api
from attachment_files import pdf
from test_attachments_api import opened_case, problem, upload

pytestmark = pytest.mark.temporal


async def test_a_passport_photo_attachment_is_read_and_its_reading_disclosed(api: Api) -> None:
    case_id = await opened_case(api)
    anna = api.as_("anna.pl", "officer", "PL")
    photo = specimens.phone_photo(
        specimens.render(specimens.TD3_UKRAINE), angle=3, blur=0.6, scale=0.6, jpeg=80
    )
    added = await upload(api, case_id, anna, photo, name="passport.jpg", content_type="image/jpeg")
    assert added.status_code == 201, added.text
    photo_id = added.json()["attachment_id"]
    url = f"/cases/{case_id}/attachments/{photo_id}/mrz"

    answer = await api.http.post(url, headers=anna)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["valid"] is True and body["format"] == "TD3"
    assert body["fields"]["document_number"] == "FA123456"
    assert body["suggested"]["evidence"] == {"kind": "passport", "number": "FA123456"}
    assert body["suggested"]["person"]["surname"] == "Shevchenko"

    logged = await api.pool.fetch(
        "SELECT user_id, endpoint, fields FROM disclosure_log WHERE case_id = $1"
        " AND purpose = 'mrz reading'",
        case_id,
    )
    assert [(r["user_id"], r["endpoint"]) for r in logged] == [
        ("anna.pl", "POST /cases/{id}/attachments/{attachment_id}/mrz")
    ]


async def test_what_cannot_be_read_and_who_may_not_read_it(api: Api) -> None:
    case_id = await opened_case(api)
    anna = api.as_("anna.pl", "officer", "PL")
    document = await upload(api, case_id, anna, pdf("Annex"), name="annex.pdf")
    assert document.status_code == 201, document.text
    blank = await upload(api, case_id, anna, specimens.blank(), name="blank.png")
    assert blank.status_code == 201, blank.text
    pdf_url = f"/cases/{case_id}/attachments/{document.json()['attachment_id']}/mrz"
    blank_url = f"/cases/{case_id}/attachments/{blank.json()['attachment_id']}/mrz"

    problem(await api.http.post(pdf_url, headers=anna), 415, "not-an-image")
    problem(await api.http.post(blank_url, headers=anna), 422, "no-readable-mrz")
    # a PDF refused before its bytes are read: only the blank image's read is logged
    assert (
        await api.pool.fetchval(
            "SELECT count(*) FROM disclosure_log WHERE case_id = $1 AND purpose = 'mrz reading'",
            case_id,
        )
        == 1
    )

    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    problem(await api.http.post(blank_url, headers=auditor), 403)
    problem(await api.http.post(blank_url, headers=api.as_("hans.de", "officer", "DE")), 404)
    unknown = "00000000-0000-4000-8000-000000000000"
    problem(
        await api.http.post(f"/cases/{case_id}/attachments/{unknown}/mrz", headers=anna),
        404,
        "attachment-not-found",
    )
    assert await api.services.vault.erase([case_id], datetime.now(UTC), "test") == [case_id]
    problem(await api.http.post(blank_url, headers=anna), 410)
