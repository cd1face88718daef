"""Temporal's tracing interceptor, with each command in the trace of the request that sent it.

The SDK's interceptor runs every update handler in the trace of the call that *started* the
workflow and only links it to the update's own call. A case lives for months, so its commands
(receipt, reply, transfer…) would all land in the trace of the request that opened it. Here an
update that carries a trace context is handled in that context instead: the officer's request,
its update call, the workflow's handling and every activity the command runs are one trace, with
a link back to the case's opening trace. Updates without a context (e.g. from the CLI without
tracing) keep the SDK's behaviour. Imported only when tracing is on (the `tracing` extra).

This leans on the SDK's `TracingWorkflowInboundInterceptor` internals (`_completed_span`,
`_set_on_context`, `_load_workflow_context_carrier`); tests/faults/test_tracing.py pins the
resulting span tree, so an SDK change that breaks them fails there.
"""

from __future__ import annotations

from typing import Any

import opentelemetry.trace
import temporalio.worker
from opentelemetry.context import Context
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.contrib.opentelemetry._context import attached_context

Inbound = temporalio.worker.WorkflowInboundInterceptor


class _CommandWorkflowInterceptor(TracingWorkflowInboundInterceptor):
    def _caller_context(self, input: temporalio.worker.HandleUpdateInput) -> Context | None:
        """The update's own trace context (its caller's), with this interceptor set on it."""
        header = input.headers.get(self.header_key)
        carrier = self.payload_converter.from_payloads([header])[0] if header else None
        if not carrier:
            return None
        return self._set_on_context(self.text_map_propagator.extract(carrier))

    def _span(self, name: str) -> None:
        self._completed_span(
            name,
            link_context_carrier=self._load_workflow_context_carrier(),
            kind=opentelemetry.trace.SpanKind.SERVER,
        )

    # Both call past the SDK's methods, which would switch to the workflow's start context.

    def handle_update_validator(self, input: temporalio.worker.HandleUpdateInput) -> None:
        context = self._caller_context(input)
        if context is None:
            return super().handle_update_validator(input)
        with attached_context(context):
            self._span(f"ValidateUpdate:{input.update}")
            Inbound.handle_update_validator(self, input)

    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        context = self._caller_context(input)
        if context is None:
            return await super().handle_update_handler(input)
        with attached_context(context):
            self._span(f"HandleUpdate:{input.update}")
            return await Inbound.handle_update_handler(self, input)


class CommandTracingInterceptor(TracingInterceptor):
    """`TracingInterceptor` whose workflows handle each update in its caller's trace."""

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span-making extern function
        return _CommandWorkflowInterceptor
