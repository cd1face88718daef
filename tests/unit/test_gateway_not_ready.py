"""Which server refusals the case gateway asks again for (same update id), and which it raises."""

from __future__ import annotations

from temporalio.service import RPCError, RPCStatusCode

from adapters.temporal.cases import _not_ready

# As the dev server answers an update while the workflow's last task failed or timed out (the
# details of a real refusal, seen when a worker was SIGKILLed mid-case).
NOT_READY = (
    b"\x08\t\x12QUnable to perform workflow execution update due to Workflow Task in failed "
    b"state.\x1aJ\nHtype.googleapis.com/temporal.api.errordetails.v1.WorkflowNotReadyFailure"
)


def test_a_workflow_task_being_retried_is_asked_again() -> None:
    message = "Unable to perform workflow execution update due to Workflow Task in failed state."
    assert _not_ready(RPCError(message, RPCStatusCode.FAILED_PRECONDITION, NOT_READY))


def test_other_refusals_are_raised() -> None:
    assert not _not_ready(RPCError("x", RPCStatusCode.FAILED_PRECONDITION, b""))
    assert not _not_ready(RPCError("x", RPCStatusCode.NOT_FOUND, NOT_READY))
    assert not _not_ready(RPCError("x", RPCStatusCode.INVALID_ARGUMENT, b"details"))
