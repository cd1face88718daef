"""A small typed client of the readmit HTTP API, for the CLI and scripts.

It speaks only HTTP: a bearer token, an optional `Idempotency-Key` on writes, and problem+json
errors turned into `ApiError` (status, title, detail, the domain error's type, field errors), so
callers never see an httpx exception or a raw response. Configuration (URL, token) is passed in:
the CLI, as the composition root, reads `READMIT_API_URL` and `READMIT_TOKEN`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

DEFAULT_API_URL = "http://127.0.0.1:8000"
TIMEOUT = httpx.Timeout(60.0, connect=5.0)  # commands wait for the case workflow's update


class FieldError(BaseModel):
    """One field the API could not accept (from a 422 problem's `errors`)."""

    model_config = ConfigDict(extra="ignore")

    field: str
    message: str
    type: str = "value_error"


class ApiError(Exception):
    """The API answered with an error (a problem document when it could)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str | None = None,
        domain_error: str | None = None,
        errors: list[FieldError] | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(f"{status} {title}" + (f": {detail}" if detail else ""))
        self.status, self.title, self.detail = status, title, detail
        self.type, self.domain_error = type_, domain_error
        self.errors = errors or []
        self.rule = rule  # the rule a refused command broke, as the case quotes it

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return cls(response.status_code, response.reason_phrase or "Error", response.text[:200])
        return cls(
            int(body.get("status") or response.status_code),
            str(body.get("title") or response.reason_phrase or "Error"),
            body.get("detail"),
            type_=body.get("type"),
            domain_error=body.get("domain_error"),
            errors=[FieldError.model_validate(e) for e in body.get("errors") or []],
            rule=body.get("rule") if isinstance(body.get("rule"), str) else None,
        )


class ApiUnreachable(Exception):
    """No answer from the API at `url` (not started, wrong URL, or too slow: `timed_out`)."""

    def __init__(self, url: str, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(f"{url}: {reason}")
        self.url, self.reason, self.timed_out = url, reason, timed_out


class EventOut(BaseModel):
    type: str
    version: int
    at: datetime


class SendingOut(BaseModel):
    """A command on its way to the other node of a shared case (docs/federation.md)."""

    message_id: str
    seq: int
    recipient: str


class CommandResult(BaseModel):
    """What a command (or opening a case) produced: the new status and the events appended, or
    (`sending`) the message carrying it to the other node, in effect once receipted."""

    case_id: str
    status: str
    version: int
    events: list[EventOut]
    sending: SendingOut | None = None
    # "awaiting": recorded as a draft reply, for a supervisor's approval (docs/api.md)
    approval: str | None = None
    # opening only: the same person's other cases the caller may see (issue 17's search)
    earlier_cases: list[dict[str, Any]] = []


class CasePage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = None


class ChainCheck(BaseModel):
    case_id: str
    ok: bool
    checked: int
    first_broken_version: int | None = None
    reason: str | None = None


class ApiClient:
    """Synchronous client; use as a context manager so the connection pool is closed."""

    def __init__(
        self,
        base_url: str = DEFAULT_API_URL,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json, application/problem+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=TIMEOUT, transport=transport
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._http.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        query = {k: v for k, v in (params or {}).items() if v is not None and v != []}
        return self._send(method, path, params=query, json=body, headers=headers).json()

    def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One request (`options` as httpx takes them); `ApiError` for a 4xx/5xx answer,
        `ApiUnreachable` when none comes."""
        try:
            response = self._http.request(method, path, **options)
        except httpx.TimeoutException as error:
            raise ApiUnreachable(self.base_url, "no answer in time", timed_out=True) from error
        except httpx.TransportError as error:
            raise ApiUnreachable(self.base_url, str(error) or type(error).__name__) from error
        if response.is_error:
            raise ApiError.from_response(response)
        return response

    def open_case(
        self, body: Mapping[str, Any], idempotency_key: str | None = None
    ) -> CommandResult:
        answer = self._request("POST", "/cases", body=body, idempotency_key=idempotency_key)
        return CommandResult.model_validate(answer)

    def command(
        self,
        case_id: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Issue one decider command, e.g. `path="/accept"`, `body={"note": "..."}`."""
        answer = self._request(
            "POST", f"/cases/{case_id}{path}", body=body or {}, idempotency_key=idempotency_key
        )
        return CommandResult.model_validate(answer)

    def list_cases(self, filters: Mapping[str, Any], cursor: str | None = None) -> CasePage:
        """One page; `filters` are the query parameters of `GET /cases` (None = not set)."""
        return CasePage.model_validate(
            self._request("GET", "/cases", params={**filters, "cursor": cursor})
        )

    def pages(self, filters: Mapping[str, Any]) -> Iterator[CasePage]:
        """Every page, following `next_cursor` until the last."""
        cursor: str | None = None
        while True:
            page = self.list_cases(filters, cursor)
            yield page
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def case(self, case_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._request("GET", f"/cases/{case_id}")
        return answer

    def events(self, case_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._request("GET", f"/cases/{case_id}/events")
        return answer

    def state(
        self, case_id: str, *, as_of: datetime | None = None, version: int | None = None
    ) -> dict[str, Any]:
        params = {"as_of": as_of.isoformat() if as_of else None, "version": version}
        answer: dict[str, Any] = self._request("GET", f"/cases/{case_id}/state", params=params)
        return answer

    def exchange(self, case_id: str) -> dict[str, Any]:
        """A shared case's messages with the other node (a federated node only)."""
        answer: dict[str, Any] = self._request("GET", f"/cases/{case_id}/exchange")
        return answer

    def verify(self, case_id: str) -> ChainCheck:
        return ChainCheck.model_validate(self._request("GET", f"/cases/{case_id}/verify"))

    def inbox(self, *, unread: bool = False, limit: int = 50) -> dict[str, Any]:
        """`GET /inbox`: the caller's notifications, newest first (the first page)."""
        params = {"unread": "true" if unread else None, "limit": limit}
        answer: dict[str, Any] = self._request("GET", "/inbox", params=params)
        return answer

    def disclosures(
        self, *, case_id: str | None = None, user_id: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """`GET /audit/disclosures`: who saw which case's personal data (auditors only)."""
        params = {"case_id": case_id, "user_id": user_id, "limit": limit}
        answer: dict[str, Any] = self._request("GET", "/audit/disclosures", params=params)
        return answer

    def search_persons(self, criteria: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /search/persons`: the criteria travel in the body, never in the URL."""
        body = {k: v for k, v in criteria.items() if v is not None}
        answer: dict[str, Any] = self._request("POST", "/search/persons", body=body)
        return answer

    def statistics(self, filters: Mapping[str, Any]) -> dict[str, Any]:
        """`GET /stats`; `filters` are its query parameters (`kind`, `agreement`, `from`, `to`;
        None = not set)."""
        answer: dict[str, Any] = self._request("GET", "/stats", params=filters)
        return answer

    def document(self, case_id: str, name: str) -> bytes:
        """`GET /cases/{id}/documents/<name>.pdf`: a printable document's PDF bytes."""
        path = f"/cases/{case_id}/documents/{name}.pdf"
        return self._send("GET", path, headers={"Accept": "application/pdf"}).content

    def attach(
        self, case_id: str, name: str, data: bytes, description: str | None = None
    ) -> dict[str, Any]:
        """`POST /cases/{id}/attachments`: the file as multipart (its type is the server's
        judgement, from the bytes); the attachment recorded."""
        form = {"description": description} if description else None
        files = {"file": (name, data, "application/octet-stream")}
        answer: dict[str, Any] = self._send(
            "POST", f"/cases/{case_id}/attachments", files=files, data=form
        ).json()
        return answer

    def attachments(self, case_id: str) -> dict[str, Any]:
        """`GET /cases/{id}/attachments`: the case's attachments, oldest first."""
        answer: dict[str, Any] = self._request("GET", f"/cases/{case_id}/attachments")
        return answer

    def attachment(self, case_id: str, attachment_id: str) -> tuple[str, bytes]:
        """`GET /cases/{id}/attachments/{attachment_id}`: its media type and bytes."""
        response = self._send(
            "GET", f"/cases/{case_id}/attachments/{attachment_id}", headers={"Accept": "*/*"}
        )
        return response.headers.get("content-type", ""), response.content

    def attachment_mrz(self, case_id: str, attachment_id: str) -> dict[str, Any]:
        """`POST /cases/{id}/attachments/{attachment_id}/mrz`: the image's MRZ, read and
        checked, as `POST /mrz/read` answers it."""
        answer: dict[str, Any] = self._request(
            "POST", f"/cases/{case_id}/attachments/{attachment_id}/mrz"
        )
        return answer

    def send_message(
        self, case_id: str, body: Mapping[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """`POST /cases/{id}/messages`: a message to the other state; the answer names it."""
        answer: dict[str, Any] = self._request(
            "POST", f"/cases/{case_id}/messages", body=dict(body), idempotency_key=idempotency_key
        )
        return answer

    def messages(self, case_id: str) -> dict[str, Any]:
        """`GET /cases/{id}/messages`: the case's conversation, oldest first."""
        answer: dict[str, Any] = self._request("GET", f"/cases/{case_id}/messages")
        return answer

    def workload(self, state: str | None = None) -> dict[str, Any]:
        """`GET /workload`: a state's open cases per officer (supervisors and auditors)."""
        answer: dict[str, Any] = self._request("GET", "/workload", params={"state": state})
        return answer
