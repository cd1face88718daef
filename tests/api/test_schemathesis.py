"""The OpenAPI document is the contract: schemathesis generates requests for every operation
(valid and invalid data) and checks that no answer is a 500, that every status, content type
and body the app answers is the one the document declares.

Cases are drawn with hypothesis from each operation's strategy, then sent through the `api`
fixture's ASGI app (its lifespan, pool and Temporal client live on the test's event loop, which
schemathesis' own ASGI transport would not share). Half of the examples of operations on a case
use a real case, so commands reach the workflow and its refusals, not only "no such case".
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import httpx
import pytest
import schemathesis
from api_harness import Api
from factories import application_body
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from structlog.testing import capture_logs

pytestmark = pytest.mark.temporal

# Examples per operation, mode and case choice (about 700 requests); raise it for a deeper run.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
BASE_URL = "http://readmit.test"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Operations called as an auditor (with an officer's token they only ever answer 403).
AUDITORS_ONLY = ("/audit/", "/codec/")
OPEN = application_body(knowledge_at="2026-01-05T10:00:00+01:00")


def lenient_query_parameters(spec: dict[str, Any]) -> dict[str, set[str]]:
    """Query parameters a "negative" value cannot be invalid for, by operation label.

    Everything in a query string is text, so a list of plain strings takes any value; a
    date-time also takes a number (pydantic reads Unix timestamps as instants) and a boolean
    also takes `1`, `on` or `yes`. Schemathesis counts such requests as schema violations the
    server accepted; they are not."""
    found: dict[str, set[str]] = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                branches = schema.get("anyOf", [schema])
                lenient = any(
                    b.get("format") == "date-time"
                    or b.get("type") == "boolean"
                    or b.get("items") == {"type": "string"}
                    for b in branches
                )
                if parameter.get("in") == "query" and lenient:
                    found.setdefault(f"{method.upper()} {path}", set()).add(parameter["name"])
    return found


def accepted_as_text(lenient: dict[str, set[str]], label: str, failure: str) -> bool:
    """A "violation accepted" whose invalid parts are all lenient query parameters."""
    if not failure.startswith("Schema-violating request accepted"):
        return False
    component = next((line for line in failure.splitlines() if "Invalid component" in line), "")
    if " in query" not in component:
        return False
    named = set(re.findall(r"`([^`]+)`", component.split(" in query")[0]))
    return bool(named) and named <= lenient.get(label, set())


def draw(strategy: Any, count: int) -> list[Case[Any]]:
    """`count` examples of a strategy, without shrinking or a saved database."""
    drawn: list[Case[Any]] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(case: Case[Any]) -> None:
        drawn.append(case)

    try:
        collect()
    except Unsatisfiable:  # nothing to make invalid (an operation without parameters)
        return []
    return drawn[:count]


async def send(http: httpx.AsyncClient, case: Case[Any], headers: dict[str, str]) -> httpx.Response:
    sent = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
    body: dict[str, Any] = {}
    if "json" in sent:
        body["content"] = json.dumps(sent["json"]).encode()
    elif sent.get("data") is not None:
        data = sent["data"]
        body["content"] = data.encode() if isinstance(data, str) else data
    return await http.request(
        sent["method"],
        sent["url"],
        params=sent.get("params"),
        headers=sent.get("headers"),
        **body,
    )


async def test_every_operation_keeps_its_contract(api: Api) -> None:
    officer = api.as_("anna.pl", "officer", "PL")
    auditor = api.as_("audit.all", "auditor", None, ("*",))
    spec = (await api.http.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(spec)
    lenient = lenient_query_parameters(spec)
    opened = await api.http.post("/cases", json=OPEN, headers=officer)
    assert opened.status_code == 201, opened.text
    real_case = opened.json()["case_id"]

    failures: dict[str, str] = {}  # one example of each kind of failure
    results = list(schema.get_all_operations())
    assert not [r for r in results if not isinstance(r, Ok)], "the schema has invalid operations"
    operations = [r.ok() for r in results if isinstance(r, Ok)]
    assert len(operations) >= 30
    for operation in operations:
        on_case = "{case_id}" in operation.path
        caller = auditor if operation.path.startswith(AUDITORS_ONLY) else officer
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            choices: list[dict[str, Any] | None] = [None]
            if on_case and mode is GenerationMode.POSITIVE:
                choices.append({"case_id": real_case})
            for fixed in choices:
                strategy = operation.as_strategy(
                    generation_mode=mode, headers=caller, path_parameters=fixed
                )
                checks = (
                    [*CHECKS, negative_data_rejection]
                    if mode is GenerationMode.NEGATIVE
                    else CHECKS
                )
                for case in draw(strategy, EXAMPLES):
                    where = f"{operation.label} [{mode.value}]"
                    try:
                        with capture_logs():  # the app logs a 500 with its locals: slow
                            response = await send(api.http, case, caller)
                    except Exception as error:  # the app raised: it answered 500
                        failures.setdefault(f"{where}: 500 {type(error).__name__}", str(error))
                        continue
                    try:
                        case.validate_response(response, checks=checks, headers=caller)
                    except FailureGroup as group:
                        for failure in group.exceptions:
                            if accepted_as_text(lenient, operation.label, str(failure)):
                                continue
                            key = f"{where}: {failure.title} ({response.status_code})"
                            failures.setdefault(key, str(failure))
    report = "\n\n".join(f"{key}\n{detail}" for key, detail in failures.items())
    assert not failures, f"{len(failures)} kind(s) of failure:\n{report}"
