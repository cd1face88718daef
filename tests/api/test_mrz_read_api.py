"""`POST /mrz/read` over HTTP: a photographed passport answers its fields, the check digits
that passed and the values offered for the open-case form; bad uploads are problem+json
(wrong type 415, too big 413, no file or no MRZ 422); only officers and supervisors may use it."""

from __future__ import annotations

import io
import os
from typing import Any

import mrz_specimens as specimens
import pytest
from api_harness import Api
from PIL import Image

from api.limits import MAX_BODY_BYTES
from api.mrz_scans import MAX_SCAN_BYTES

pytestmark = pytest.mark.temporal


def upload(data: bytes, name: str = "scan.jpg", kind: str = "image/jpeg") -> dict[str, Any]:
    return {"files": {"file": (name, data, kind)}}


def assert_problem(answer: Any, status: int, type_: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["status"] == status and body["type"].endswith(type_) and body["detail"]
    return body


async def test_a_photographed_passport_is_read_and_offered(api: Api) -> None:
    photo = specimens.phone_photo(
        specimens.render(specimens.TD3_UKRAINE), angle=4, blur=0.8, scale=0.6, jpeg=75
    )
    anna = api.as_("anna.pl", "officer", "PL")
    answer = await api.http.post("/mrz/read", headers=anna, **upload(photo))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["valid"] is True and body["format"] == "TD3"
    assert body["check_digits"] == {
        "document_number": True,
        "birth_date": True,
        "expiry_date": True,
        "personal_number": True,
        "composite": True,
    }
    assert body["fields"]["document_number"] == "FA123456"
    suggested = body["suggested"]
    assert suggested["person"] == {
        "surname": "Shevchenko",
        "given_names": "Oleksandr",
        "sex": "M",
        "nationality": "UKR",
        "birth_date": "1990-05-17",
    }
    assert suggested["evidence"] == {"kind": "passport", "number": "FA123456"}


async def test_bad_uploads_are_problems(api: Api) -> None:
    anna = api.as_("anna.pl", "officer", "PL")
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    wrong = await api.http.post("/mrz/read", headers=anna, **upload(pdf, "scan.jpg"))
    assert_problem(wrong, 415, "unsupported-media-type")
    # a PNG header, then too much: refused by the body cap (api/limits.py) or, where the cap lets
    # scans through, by the scan's own limit; 413 problem+json either way
    big = specimens.blank()[:8] + b"\0" * (MAX_SCAN_BYTES + 10)
    too_big = await api.http.post("/mrz/read", headers=anna, **upload(big, "big.png"))
    assert_problem(too_big, 413, "too-large")
    missing = await api.http.post("/mrz/read", headers=anna, data={"other": "x"})
    assert missing.status_code == 422
    blank = await api.http.post(
        "/mrz/read", headers=anna, **upload(specimens.blank(), "blank.png", "image/png")
    )
    body = assert_problem(blank, 422, "no-readable-mrz")
    assert body["title"] == "No readable MRZ"


async def test_only_officers_and_supervisors_read_scans(api: Api) -> None:
    for who in (("audit.pl", "auditor", None, ("PL",)), ("root.pl", "admin", "PL", ())):
        answer = await api.http.post(
            "/mrz/read", headers=api.as_(*who), **upload(specimens.blank(), "b.png", "image/png")
        )
        assert_problem(answer, 403, "forbidden")
    anonymous = await api.http.post("/mrz/read", **upload(specimens.blank(), "b.png"))
    assert anonymous.status_code == 401


async def test_a_scan_larger_than_the_body_cap_reaches_the_reader(api: Api) -> None:
    # a phone photo is often over the API's 1 MiB body cap: scans pass it up to their own limit
    noise = Image.frombytes("L", (1300, 1300), os.urandom(1300 * 1300))
    out = io.BytesIO()
    noise.save(out, format="PNG")
    assert MAX_BODY_BYTES < len(out.getvalue()) < MAX_SCAN_BYTES
    anna = api.as_("anna.pl", "officer", "PL")
    answer = await api.http.post(
        "/mrz/read", headers=anna, **upload(out.getvalue(), "noise.png", "image/png")
    )
    assert_problem(answer, 422, "no-readable-mrz")
