"""Attachments over the API: a PDF, JPEG or PNG added to a case is sealed with the case's key,
stored once per content, recorded by its hash in the case's history, listed, and returned
exactly as uploaded with every download in the disclosure log; every bad upload answers
problem+json 4xx and writes nothing (no stored bytes, no event)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_harness import Api
from attachment_files import gif, jpeg, moto_s3, pdf, png
from factories import application_body

from adapters.attachments.s3 import S3AttachmentStore
from adapters.attachments.store import BlobKey

pytestmark = pytest.mark.temporal

OPEN = application_body(knowledge_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())


async def opened_case(api: Api, *, submit: bool = True) -> str:
    anna = api.as_("anna.pl", "officer", "PL")
    opened = await api.http.post("/cases", json=OPEN, headers=anna)
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    if submit:
        answer = await api.http.post(f"/cases/{case_id}/submit", json={}, headers=anna)
        assert answer.status_code == 200, answer.text
    return case_id


def problem(answer: Any, status: int, type_: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    if type_:
        assert body["type"].endswith(type_), body
    return body


async def upload(
    api: Api,
    case_id: str,
    headers: dict[str, str],
    data: bytes,
    *,
    name: str = "scan.png",
    content_type: str = "image/png",
    description: str | None = None,
) -> Any:
    form = {"description": description} if description is not None else None
    return await api.http.post(
        f"/cases/{case_id}/attachments",
        files={"file": (name, data, content_type)},
        data=form,
        headers=headers,
    )


async def written(api: Api, case_id: str) -> tuple[int, int]:
    """(stored blobs, AttachmentAdded events) of the case."""
    blobs = await api.pool.fetchval(
        "SELECT count(*) FROM case_attachments WHERE case_id = $1", case_id
    )
    events = await api.pool.fetchval(
        "SELECT count(*) FROM case_events WHERE stream_id = $1 AND type = 'AttachmentAdded'",
        case_id,
    )
    return int(blobs), int(events)


async def test_an_upload_is_sealed_recorded_by_hash_listed_and_returned_as_uploaded(
    api: Api,
) -> None:
    case_id = await opened_case(api)
    anna = api.as_("anna.pl", "officer", "PL")
    olena = api.as_("olena.ua", "officer", "UA")
    image = png(1)
    added = await upload(
        api,
        case_id,
        anna,
        image,
        name="Shevchenko_passport.png",
        description="Passport page of Oleksandr",
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["media_type"] == "image/png"
    assert body["size"] == len(image)
    assert body["sha256"] == hashlib.sha256(image).hexdigest()
    assert (body["side"], body["by"]) == ("requesting", "anna.pl")
    assert body["description"] == "Passport page of Oleksandr"
    attachment_id = body["attachment_id"]

    # the other party sees it too, and adds one of its own
    listed = await api.http.get(f"/cases/{case_id}/attachments", headers=olena)
    assert listed.status_code == 200, listed.text
    assert [a["attachment_id"] for a in listed.json()["items"]] == [attachment_id]
    document = pdf("Reply annex")
    theirs = await upload(api, case_id, olena, document, name="annex.png")  # named as a PNG
    assert theirs.status_code == 201, theirs.text
    assert (theirs.json()["media_type"], theirs.json()["side"]) == ("application/pdf", "requested")

    got = await api.http.get(f"/cases/{case_id}/attachments/{attachment_id}", headers=olena)
    assert got.status_code == 200, got.text
    assert got.content == image
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"] == f'attachment; filename="{attachment_id}.png"'
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    pdf_id = theirs.json()["attachment_id"]
    got = await api.http.get(f"/cases/{case_id}/attachments/{pdf_id}", headers=auditor)
    assert (got.status_code, got.content) == (200, document)
    assert got.headers["content-disposition"].endswith('.pdf"')

    # the history holds the hash, never the bytes, the name or the description in the clear
    rows = await api.pool.fetch(
        "SELECT data FROM case_events WHERE stream_id = $1 AND type = 'AttachmentAdded'"
        " ORDER BY version",
        case_id,
    )
    data = [json.loads(r["data"]) if isinstance(r["data"], str) else r["data"] for r in rows]
    assert [d["sha256"] for d in data] == [body["sha256"], theirs.json()["sha256"]]
    assert "Oleksandr" not in json.dumps(data) and "Shevchenko" not in json.dumps(data)
    assert (await api.http.get(f"/cases/{case_id}/verify", headers=auditor)).json()["ok"]
    # the stored bytes are sealed: neither file appears in them
    for row in await api.pool.fetch(
        "SELECT sealed FROM case_attachments WHERE case_id = $1", case_id
    ):
        assert image not in bytes(row["sealed"]) and document[:64] not in bytes(row["sealed"])

    # every download is in the disclosure log, with who and which case
    logged = await api.pool.fetch(
        "SELECT user_id, endpoint, fields FROM disclosure_log WHERE case_id = $1"
        " AND purpose = 'download' ORDER BY id",
        case_id,
    )
    assert [r["user_id"] for r in logged] == ["olena.ua", "audit.pl"]
    assert {r["endpoint"] for r in logged} == {"GET /cases/{id}/attachments/{attachment_id}"}


async def test_the_same_bytes_uploaded_again_are_kept_once(api: Api) -> None:
    case_id = await opened_case(api)
    anna = api.as_("anna.pl", "officer", "PL")
    image = jpeg(3)
    first = await upload(api, case_id, anna, image, name="a.jpg", content_type="image/jpeg")
    assert first.status_code == 201, first.text
    again = await upload(api, case_id, anna, image, name="b.jpg", content_type="image/jpeg")
    assert again.status_code == 200, again.text
    assert again.json()["attachment_id"] == first.json()["attachment_id"]
    assert await written(api, case_id) == (1, 1)


async def test_bad_uploads_answer_problems_and_write_nothing(api: Api) -> None:
    case_id = await opened_case(api)
    anna = api.as_("anna.pl", "officer", "PL")
    problem(await upload(api, case_id, anna, gif(), name="x.png"), 415, "unsupported-media-type")
    text = b"%PDF-1.4 is what a PDF starts with, but this is a text file"
    problem(
        await upload(
            api,
            case_id,
            anna,
            b"plain text, not a scan",
            name="scan.pdf",
            content_type="application/pdf",
        ),
        415,
    )
    problem(await upload(api, case_id, anna, b"PK\x03\x04" + text, name="a.pdf"), 415)
    problem(await upload(api, case_id, anna, b"", name="empty.png"), 415)
    problem(await upload(api, case_id, anna, png(2), description="x" * 300), 422)
    missing = await api.http.post(
        f"/cases/{case_id}/attachments", data={"description": "no file"}, headers=anna
    )
    problem(missing, 422)

    # over the configured limit: the handler's 413; far over it, the body cap's, unread
    limit = api.services.settings.attachment_max_bytes
    big = png(4, size=512)
    api.services.settings = api.services.settings.model_copy(
        update={"attachment_max_bytes": len(big) - 1}
    )
    try:
        problem(await upload(api, case_id, anna, big), 413, "content-too-large")
    finally:
        api.services.settings = api.services.settings.model_copy(
            update={"attachment_max_bytes": limit}
        )
    huge = b"\x89PNG\r\n\x1a\n" + bytes(limit + 128 * 1024)
    problem(await upload(api, case_id, anna, huge), 413, "content-too-large")

    # who may not: auditors write nothing, other states and an unknown case see nothing
    auditor = api.as_("audit.pl", "auditor", None, ("PL",))
    problem(await upload(api, case_id, auditor, png(5)), 403)
    problem(await upload(api, case_id, api.as_("hans.de", "officer", "DE"), png(5)), 404)
    problem(await upload(api, "PL-UA-2027-999999", anna, png(5)), 404)
    problem(
        await api.http.get(
            f"/cases/{case_id}/attachments", headers=api.as_("hans.de", "officer", "DE")
        ),
        404,
    )
    unknown = "00000000-0000-4000-8000-000000000000"
    problem(
        await api.http.get(f"/cases/{case_id}/attachments/{unknown}", headers=anna),
        404,
        "attachment-not-found",
    )
    problem(await api.http.get(f"/cases/{case_id}/attachments/not-an-id", headers=anna), 422)
    assert await written(api, case_id) == (0, 0)


async def test_a_draft_is_attached_to_by_its_requesting_state_only(api: Api) -> None:
    case_id = await opened_case(api, submit=False)
    olena = api.as_("olena.ua", "officer", "UA")
    problem(await upload(api, case_id, olena, png(6)), 404)  # UA does not know the draft yet
    anna = api.as_("anna.pl", "officer", "PL")
    assert (await upload(api, case_id, anna, png(6))).status_code == 201


async def test_a_refused_upload_leaves_no_stored_bytes(api: Api) -> None:
    case_id = await opened_case(api, submit=False)
    anna = api.as_("anna.pl", "officer", "PL")
    withdrawn = await api.http.post(
        f"/cases/{case_id}/withdraw", json={"reasons": ["opened by mistake"]}, headers=anna
    )
    assert withdrawn.status_code == 200, withdrawn.text
    refused = await upload(api, case_id, anna, png(7))
    problem(refused, 409, "command-refused")
    assert await written(api, case_id) == (0, 0)


async def test_an_s3_store_behind_the_same_routes(api: Api) -> None:
    case_id = await opened_case(api)
    anna = api.as_("anna.pl", "officer", "PL")
    with moto_s3() as endpoint:
        store = S3AttachmentStore.connect(
            endpoint, "readmit-api", access_key="k", secret_key="s", secure=False
        )
        api.services.attachments = store
        document = pdf("Stored in S3")
        added = await upload(api, case_id, anna, document, name="x.pdf")
        assert added.status_code == 201, added.text
        sha = added.json()["sha256"]
        sealed = await store.get(BlobKey(case_id, sha))
        assert sealed is not None and b"Stored in S3" not in sealed
        got = await api.http.get(added.json()["download"], headers=anna)
        assert (got.status_code, got.content) == (200, document)
    assert await written(api, case_id) == (0, 1)  # nothing kept in PostgreSQL meanwhile
