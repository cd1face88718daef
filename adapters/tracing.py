"""OpenTelemetry traces across API → workflow → activities, off unless `READMIT_TRACING` says so.

One `Tracing` per process holds the tracer provider and its exporter (OTLP over HTTP or the
console). The composition roots plug it in: the Temporal client gets Temporal's tracing
interceptor (workers built on that client inherit it; see `command_traces`), the API app gets
FastAPI's request instrumentation, so an HTTP request's span is the parent of the client's update
span, of the workflow's handling of the update and of the activities' spans: one trace. Nothing
is set globally, so a test can hold its own provider beside the process's. The SDK packages are
the optional `tracing` extra and are imported only when tracing is on.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import structlog

from adapters.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from temporalio.client import Interceptor

log = structlog.get_logger(__name__)

# Probes and scrapes would only add noise to the traces.
UNTRACED_URLS = "/health,/ready,/metrics"
TRACES_PATH = "/v1/traces"
INSTRUMENTATION_NAME = "readmit"


class TracingUnavailable(RuntimeError):
    """Tracing was asked for but the `tracing` extra is not installed."""


class Tracing:
    """A process's tracing: a provider and what plugs it in, or nothing at all when off."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self.provider = provider

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    def interceptors(self) -> list[Interceptor]:
        """Interceptors for `Client.connect`: spans for client calls, workflows and activities."""
        if self.provider is None:
            return []
        from adapters.temporal.command_traces import CommandTracingInterceptor

        return [CommandTracingInterceptor(self.provider.get_tracer(INSTRUMENTATION_NAME))]

    def instrument(self, app: FastAPI) -> None:
        """A server span for every HTTP request (parent of the Temporal client spans)."""
        if self.provider is None:
            return
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=self.provider, excluded_urls=UNTRACED_URLS
        )

    def flush(self) -> None:
        """Export what is buffered (processes leave through `os._exit`, skipping atexit)."""
        if self.provider is not None:
            self.provider.force_flush()


def build_tracing(settings: Settings, exporter: SpanExporter | None = None) -> Tracing:
    """The tracing `settings.tracing` asks for; `exporter` replaces the configured one (tests).

    With `tracing=none` nothing is built, whatever `exporter` is given.
    """
    if settings.tracing == "none":
        return Tracing()
    try:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as error:
        raise TracingUnavailable(
            f"READMIT_TRACING={settings.tracing} needs the tracing extra: "
            "pip install 'readmit[tracing]'"
        ) from error
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: settings.tracing_service_name}),
        shutdown_on_exit=False,
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    log.info(
        "tracing on",
        exporter=settings.tracing,
        endpoint=_traces_endpoint(settings.otlp_endpoint),
        service=settings.tracing_service_name,
    )
    return Tracing(provider)


def _exporter(settings: Settings) -> Any:
    if settings.tracing == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        # stderr, beside the JSON logs: stdout carries the CLI's own output
        return ConsoleSpanExporter(service_name=settings.tracing_service_name, out=sys.stderr)
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as error:
        raise TracingUnavailable(
            "READMIT_TRACING=otlp needs the tracing extra: pip install 'readmit[tracing]'"
        ) from error
    return OTLPSpanExporter(endpoint=_traces_endpoint(settings.otlp_endpoint))


def _traces_endpoint(base: str | None) -> str | None:
    """OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL: traces go to `/v1/traces`."""
    if base is None:
        return None
    return base if base.rstrip("/").endswith(TRACES_PATH) else base.rstrip("/") + TRACES_PATH


_PROCESS: dict[tuple[str, str | None, str], Tracing] = {}


def process_tracing(settings: Settings) -> Tracing:
    """The process's one `Tracing` for these settings: the client factory and the API app
    share it, so a process exports through one provider."""
    key = (settings.tracing, settings.otlp_endpoint, settings.tracing_service_name)
    if key not in _PROCESS:
        _PROCESS[key] = build_tracing(settings)
    return _PROCESS[key]


def flush_process_tracing() -> None:
    """Flush what `process_tracing` built (before the process leaves through `os._exit`)."""
    for tracing in _PROCESS.values():
        tracing.flush()
