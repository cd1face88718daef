"""`MessageDelivery`: one message of a shared case to the other node, until its receipt is back.

The case workflow starts one per message, in order, as a child (`message-<message id>`), and
waits for it. Its one activity builds the signed message the first time (and stores it, so every
attempt sends the same bytes), posts it and verifies the receipt. A peer that is down, slow or
answers a retryable refusal (it awaits a receipt of its own first) is tried again with a growing
pause, for days: the message waits and the clock starts when it is actually received. Only if the
peer never answers within `attempts_for_days` does the case learn it was not delivered.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import DELIVER_MESSAGE, DELIVERY_WORKFLOW, Delivered, DeliverInput

# first retry after 2 s, then doubling up to a pause of 10 minutes
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["MessageNotBuildable"],
)


@workflow.defn(name=DELIVERY_WORKFLOW)
class MessageDelivery:
    @workflow.run
    async def run(self, request: DeliverInput) -> Delivered:
        try:
            delivered: Delivered = await workflow.execute_activity(
                DELIVER_MESSAGE,
                request,
                result_type=Delivered,
                start_to_close_timeout=timedelta(minutes=2),
                schedule_to_close_timeout=timedelta(days=request.attempts_for_days),
                retry_policy=DELIVERY_RETRY,
            )
        except ActivityError as error:
            workflow.logger.error("message %s not delivered: %s", request.message.seq, error)
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type == "MessageNotBuildable":
                code, detail = "not_sent", cause.message  # this node cannot send it at all
            else:
                code = "undelivered"
                detail = f"no receipt from {request.recipient} in {request.attempts_for_days} days"
            return Delivered(
                message_id=request.message.message_id,
                outcome="refused",
                received_at=workflow.now(),
                code=code,
                detail=detail,
            )
        return delivered
