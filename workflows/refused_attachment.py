"""The case workflow's part when the other node refuses a crossing `AddAttachment`.

The sending node sealed and stored the file's bytes when its officer uploaded it (the API's
202), before the peer had decided. A refusal means the case never records the attachment here
either, so the bytes would stay with no event naming them: the workflow has an activity remove
them (`drop_refused_attachment`), unless an attachment the case did record has the same bytes
(they are stored once per case and SHA-256). A failed removal only leaves the bytes behind
(logged): the case goes on. Recorded behind the `drop-refused-attachment` patch, so histories
that settled a refusal without it replay as they ran.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.commands import AddAttachment, Command
    from domain.state import CaseState
    from workflows.contracts import (
        DROP_REFUSED_ATTACHMENT,
        DropAttachmentInput,
        DropAttachmentResult,
        cases_queue,
    )

PATCH = "drop-refused-attachment"
DROP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=10,
)


def orphaned(command: AddAttachment, state: CaseState) -> bool:
    """Whether the bytes of refused `command` belong to no attachment `state` recorded (the
    same bytes, recorded from the other node meanwhile, stay)."""
    return not any(known.sha256 == command.sha256 for known in state.attachments)


async def drop_refused_file(case_id: str, command: Command, state: CaseState, prefix: str) -> None:
    """Remove the stored bytes of `command` (refused by the other node) if it is a file that
    no recorded attachment of `state` shares."""
    if not isinstance(command, AddAttachment) or not workflow.patched(PATCH):
        return
    if not orphaned(command, state):
        return
    try:
        await workflow.execute_activity(
            DROP_REFUSED_ATTACHMENT,
            DropAttachmentInput(case_id=case_id, sha256=command.sha256),
            result_type=DropAttachmentResult,
            task_queue=cases_queue(prefix),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DROP_RETRY,
        )
    except ActivityError as error:
        workflow.logger.error("refused attachment's bytes not removed: %s", error.cause)
