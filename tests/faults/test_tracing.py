"""Tracing across API → workflow → activities. With it on, each command is one trace whose
parent links run request → update call → the workflow's validation and handling → each activity;
a later command's trace is linked to the case's opening one. With it off (the default) nothing is
installed, no span is recorded and no trace context travels in history.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg
import pytest
from fault_support import application, bearer, running_api
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from adapters.settings import Settings
from adapters.tracing import _exporter, _traces_endpoint, build_tracing

pytestmark = pytest.mark.temporal

HEADER = "_tracer-data"  # where Temporal's tracing interceptor carries the trace context


def named(spans: Iterable[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, sorted(s.name for s in spans))
    return found[0]


def ancestors(span: ReadableSpan, spans: Iterable[ReadableSpan]) -> list[str]:
    """Names of the span's parents, nearest first, as far as the recorded spans go."""
    by_id = {s.context.span_id: s for s in spans}
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span.name)
    return chain


async def update_headers(client: Client, case_id: str) -> list[set[str]]:
    """The header keys of every update the case's workflow accepted, from its history."""
    history = await client.get_workflow_handle(case_id).fetch_history()
    return [
        set(
            e.workflow_execution_update_accepted_event_attributes.accepted_request.input.header.fields
        )
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]


async def test_one_http_command_is_one_trace(
    time_env: WorkflowEnvironment, schema_dsn: str, pool: asyncpg.Pool
) -> None:
    memory = InMemorySpanExporter()
    tracing = build_tracing(Settings(tracing="otlp"), exporter=memory)
    assert tracing.enabled
    async with running_api(time_env, schema_dsn, pool, tracing=tracing) as api:
        anna, olena = bearer("anna.pl", "officer", "PL"), bearer("olena.ua", "officer", "UA")
        opened = await api.post("/cases", anna, application())
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
        spans = memory.get_finished_spans()
        for path, who in (("/submit", anna), ("/receipt", olena)):
            assert (await api.post(f"/cases/{case_id}{path}", who)).status_code == 200
        memory.clear()
        accepted = await api.post(f"/cases/{case_id}/accept", olena)
        assert accepted.status_code == 200, accepted.text
        later = memory.get_finished_spans()
        again = await api.post(f"/cases/{case_id}/accept", olena)  # refused by the validator
        assert again.status_code == 409 and again.json()["domain_error"] == "WrongStatus"
        assert all(HEADER in keys for keys in await update_headers(api.client, case_id))
        assert (await api.http.get("/health")).status_code == 200

    # Opening the case: the request, the update-with-start, the workflow and its activities.
    request = named(spans, "POST /cases")
    assert request.kind is trace.SpanKind.SERVER and request.parent is None
    assert request.attributes is not None and request.attributes["http.status_code"] == 201
    start = named(spans, "StartUpdateWithStartWorkflow:ReadmissionCase")
    assert start.kind is trace.SpanKind.CLIENT and ancestors(start, spans) == [request.name]
    assert start.attributes is not None and start.attributes["temporalWorkflowID"] == case_id
    for name in ("RunWorkflow:ReadmissionCase", "HandleUpdate:execute"):
        assert ancestors(named(spans, name), spans) == [start.name, request.name], name
    store = named(spans, "RunActivity:commit_case_events")
    assert store.kind is trace.SpanKind.SERVER
    assert store.attributes is not None and store.attributes["temporalWorkflowID"] == case_id
    assert ancestors(store, spans) == ["StartActivity:commit_case_events", start.name, request.name]
    assert {s.context.trace_id for s in spans} == {request.context.trace_id}

    # A later command is a trace of its own, from the request to the activities it ran, linked
    # to the case's opening trace.
    reply = named(later, "POST /cases/{case_id}/accept")
    mine = [s for s in later if s.context.trace_id == reply.context.trace_id]
    update = named(mine, "StartWorkflowUpdate:execute")
    assert ancestors(update, mine) == [reply.name]
    for name in ("ValidateUpdate:execute", "HandleUpdate:execute"):
        handled = named(mine, name)
        assert ancestors(handled, mine) == [update.name, reply.name], name
        assert [link.context.trace_id for link in handled.links] == [request.context.trace_id]
    appended = named(mine, "RunActivity:commit_case_events")
    assert ancestors(appended, mine) == [
        "StartActivity:commit_case_events",
        update.name,
        reply.name,
    ]
    assert not [s.name for s in memory.get_finished_spans() if "health" in s.name]


async def test_off_by_default_nothing_is_installed_or_recorded(
    time_env: WorkflowEnvironment, schema_dsn: str, pool: asyncpg.Pool
) -> None:
    assert Settings().tracing == "none"
    memory = InMemorySpanExporter()
    tracing = build_tracing(Settings(), exporter=memory)
    assert not tracing.enabled and tracing.interceptors() == []
    async with running_api(time_env, schema_dsn, pool, tracing=tracing) as api:
        case_id = await api.received_case()
        olena = bearer("olena.ua", "officer", "UA")
        refused = await api.post(f"/cases/{case_id}/refuse", olena, {"reasons": ["not ours"]})
        assert refused.status_code == 200, refused.text
        headers = await update_headers(api.client, case_id)
    assert len(headers) == 4 and not any(HEADER in keys for keys in headers)
    assert memory.get_finished_spans() == ()
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)


def test_settings_choose_the_exporter_and_the_standard_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    monkeypatch.setenv("READMIT_TRACING", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "readmit-worker-ua")
    settings = Settings()
    assert settings.otlp_endpoint == "http://collector:4318/"
    exporter = _exporter(settings)
    assert isinstance(exporter, OTLPSpanExporter)
    assert exporter._endpoint == "http://collector:4318/v1/traces"
    assert _traces_endpoint("http://c:4318/v1/traces") == "http://c:4318/v1/traces"
    tracing = build_tracing(settings)
    assert tracing.provider is not None
    assert tracing.provider.resource.attributes["service.name"] == "readmit-worker-ua"
    tracing.provider.shutdown()
    assert isinstance(_exporter(Settings(tracing="console")), ConsoleSpanExporter)
    with pytest.raises(ValidationError):
        Settings(tracing="jaeger")
