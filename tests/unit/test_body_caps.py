"""The body cap of the scan uploads (api/limits.py): a passport or identity card scan whose MRZ
is read passes the cap up to the scan's own limit (10 MiB), even where the attachment limit
(`READMIT_ATTACHMENT_MAX_BYTES`) is set lower; other bodies keep their caps."""

from __future__ import annotations

from api.limits import MAX_BODY_BYTES, SCAN_MAX_BYTES, BodySizeLimit
from api.mrz_scans import MAX_SCAN_BYTES


async def _app(scope: object, receive: object, send: object) -> None:  # never called
    raise AssertionError


def test_scans_pass_the_cap_up_to_their_own_limit() -> None:
    assert SCAN_MAX_BYTES == MAX_SCAN_BYTES
    small = 2 * 1024 * 1024
    limit = BodySizeLimit(_app, upload_max_bytes=small)
    for path in ("/mrz/read", "/ui/cases/new/mrz", "/ui/cases/PL-UA-2026-000001/mrz"):
        assert limit._cap({"path": path}) > MAX_SCAN_BYTES, path
    assert limit._cap({"path": "/cases/PL-UA-2026-000001/attachments"}) < MAX_SCAN_BYTES
    assert limit._cap({"path": "/cases"}) == MAX_BODY_BYTES
    big = BodySizeLimit(_app, upload_max_bytes=20 * 1024 * 1024)
    assert big._cap({"path": "/mrz/read"}) > 20 * 1024 * 1024
