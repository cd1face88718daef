"""A cap on request bodies: above `max_bytes` the answer is 413 problem+json, before any handler.

FastAPI reads JSON bodies whole, so an unbounded body is memory anyone with a socket can claim.
A declared `Content-Length` over the cap is refused without reading; a chunked body is read up to
the cap and refused as soon as it exceeds it, so at most `max_bytes` are ever held.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response

MAX_BODY_BYTES = 1024 * 1024


# Uploads of case attachments (the API's and the pages' form) and scans whose MRZ is read
# (`POST /mrz/read`, the pages' "Read from a scan" forms) may be larger: up to the attachment
# limit plus room for the multipart framing and the form's other fields; a scan up to its own
# limit too (`api.mrz_scans.MAX_SCAN_BYTES`), whatever the attachment limit is set to.
UPLOAD_PATH = re.compile(r"^(/ui)?/cases/[^/]+/(attachments|mrz)$|^/mrz/read$")
SCAN_PATH = re.compile(r"^(/ui)?/cases/[^/]+/mrz$|^/mrz/read$")
UPLOAD_OVERHEAD_BYTES = 64 * 1024
SCAN_MAX_BYTES = 10 * 1024 * 1024  # api.mrz_scans.MAX_SCAN_BYTES (tests/unit/test_body_caps.py)


class BodySizeLimit:
    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, upload_max_bytes: int | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self._cap(scope)
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await self._refuse(scope, receive, send, cap)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                await self._refuse(scope, receive, send, cap)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    def _cap(self, scope: Scope) -> int:
        """The cap of this request: an attachment upload's, or every other body's."""
        path = scope.get("path", "")
        if self.upload_max_bytes is not None and UPLOAD_PATH.match(path):
            upload = self.upload_max_bytes
            if SCAN_PATH.match(path):
                upload = max(upload, SCAN_MAX_BYTES)
            return max(self.max_bytes, upload + UPLOAD_OVERHEAD_BYTES)
        return self.max_bytes

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        response = problem_response(
            413,
            "Content too large",
            f"the request body exceeds {cap} bytes",
            type_="content-too-large",
        )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, as one message; then the client's own (disconnect) messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
