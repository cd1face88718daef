"""The case queue's workers check the API's signature on every update of a case workflow.

A worker interceptor (installed by `workers.main.build_workers` on the case queue's worker) runs
before the workflow's own validator: an update the API did not sign for this case and this
update id (`adapters/temporal/command_signing.py`) is rejected there, so nothing reaches the
workflow's history or the event store. The check lives here, not in `workflows/`, because
workflow code imports no cryptography; which actor may act on which side is the workflow's own,
pure, check. Validators do not run when a history is replayed, so neither does this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from adapters.temporal.command_signing import CommandSignatureError, CommandVerifier
from workflows.contracts import WORKFLOW_NAME, CommandRequest

UNSIGNED = "UnsignedCommand"
BAD_SIGNATURE = "BadCommandSignature"


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def _request(args: Sequence[Any]) -> CommandRequest:
    if len(args) != 1 or not isinstance(args[0], CommandRequest):
        raise CommandSignatureError("a case workflow takes signed command requests only")
    return args[0]


def _refusal(error: CommandSignatureError, request: CommandRequest | None) -> ApplicationError:
    # 500 to the API's callers: the API signs every command, so a refusal it meets is a
    # configuration fault (keys not in step), not the caller's
    return ApplicationError(
        str(error),
        {"http_status": 500},
        type=UNSIGNED if request is not None and request.signature is None else BAD_SIGNATURE,
        non_retryable=True,
    )


class _SignedCommandsInbound(WorkflowInboundInterceptor):
    verifier: ClassVar[CommandVerifier]
    clock: ClassVar[Callable[[], datetime]]

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        info = workflow.info()
        if info.workflow_type == WORKFLOW_NAME:
            request: CommandRequest | None = None
            try:
                request = _request(input.args)
                # the check runs in the worker (passed-through code, the wall clock), and only
                # while validating: never on replay, so it cannot change a history
                with workflow.unsafe.sandbox_unrestricted():
                    self.verifier.check(info.workflow_id, input.id, request, type(self).clock())
            except CommandSignatureError as error:
                raise _refusal(error, request) from None
        super().handle_update_validator(input)


class CommandSignatureCheck(Interceptor):
    """Workers refuse case workflow updates not signed by the API (keys from `verifier`)."""

    def __init__(
        self, verifier: CommandVerifier, clock: Callable[[], datetime] = _wall_clock
    ) -> None:
        self.verifier = verifier
        self._inbound = type(
            "SignedCommandsInbound",
            (_SignedCommandsInbound,),
            {"verifier": verifier, "clock": staticmethod(clock)},
        )

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return self._inbound
