"""Talking to case workflows: open (update-with-start), execute a command, read the view.

Used by the API, the CLI, the simulator and the tests, so that a refused command surfaces the
same way everywhere: a `CommandRefused` carrying the domain error's type, message and status.
Every command request leaves signed (`adapters/temporal/command_signing.py`): the case queue's
workers refuse one that is not.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from adapters.protection.vault import PersonalDataVault
from adapters.temporal.command_signing import CommandSigner
from domain.alarms import ReminderPolicy
from domain.commands import Command, OpenCase
from domain.errors import CaseClosedError
from domain.listing import listing_of_opening
from workflows.contracts import (
    QUEUE_PREFIX,
    Actor,
    CaseInput,
    CaseOutcome,
    CaseView,
    CommandRequest,
    CommandResult,
    FederationInput,
    PeerMessage,
    cases_queue,
)
from workflows.readmission_case import ReadmissionCase
from workflows.search_attributes import initial

NOT_READY_PAUSE = 0.5  # seconds between asks while the case's workflow task is being retried


def _not_ready(error: RPCError) -> bool:
    """The server refuses updates while the workflow's last task failed or timed out (its worker
    died, say) until a retry of it completes: transient, ask again with the same update id."""
    return error.status == RPCStatusCode.FAILED_PRECONDITION and b"WorkflowNotReadyFailure" in (
        error.raw_grpc_status or b""
    )


def _opening(request: CommandRequest) -> OpenCase | None:
    """The opening a request starting a case carries: its own command, or a peer's opening."""
    if isinstance(request.command, OpenCase):
        return request.command
    return request.peer.opening if request.peer is not None else None


class CommandRefused(Exception):
    """The case refused a command: `type` is the domain error's class name, `rule` the rule
    it names (when the case's decider gave one)."""

    def __init__(
        self,
        type_: str,
        message: str,
        http_status: int = 409,
        rule: str | None = None,
        *,
        code: str | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.type, self.message, self.http_status = type_, message, http_status
        self.rule = rule
        # a refused message of the other node (docs/federation.md): its code and whether the
        # sender should try again later
        self.code, self.retryable = code, retryable


class CaseNotFound(Exception):
    pass


def _refusal(error: WorkflowUpdateFailedError) -> CommandRefused:
    cause: Any = error.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = getattr(cause, "cause", None)
    if cause is None:
        return CommandRefused("UpdateFailed", str(error), 500)
    details = cause.details[0] if cause.details else {}
    status = int(details.get("http_status", 409)) if isinstance(details, dict) else 409
    found = details if isinstance(details, dict) else {}
    rule = found.get("rule")
    return CommandRefused(
        cause.type or "ApplicationError",
        cause.message,
        status,
        str(rule) if rule else None,
        code=str(found["code"]) if found.get("code") else None,
        retryable=bool(found.get("retryable", False)),
    )


class CaseGateway:
    """Commands and queries for case workflows on one Temporal client.

    Personal data in a command is sealed with the case's data key (`vault`) before the command
    leaves this process: Temporal's history and the event store only ever hold the seal. The
    sealed command, its actor, the case and the update id are then signed (`signer`), once per
    call to Temporal.
    """

    def __init__(
        self,
        client: Client,
        *,
        vault: PersonalDataVault,
        signer: CommandSigner,
        queue_prefix: str = QUEUE_PREFIX,
        policy: ReminderPolicy | None = None,
        history_limit: int | None = None,
        wait_seconds: float = 120.0,
        node_state: str | None = None,
        clock_skew_seconds: int = 120,
    ) -> None:
        self.wait_seconds = wait_seconds
        self.client = client
        self.vault = vault
        self.signer = signer
        self.queue_prefix = queue_prefix
        self.policy = policy or ReminderPolicy()
        self.history_limit = history_limit
        # a federated node (docs/federation.md): every case is shared with its other party
        self.node_state = node_state
        self.clock_skew_seconds = clock_skew_seconds

    def peer_of(self, case_id: str) -> str | None:
        """On a federated node, the other party of `case_id` (its id names both states)."""
        if self.node_state is None:
            return None
        requesting, requested = case_id.split("-")[:2]
        return requested if self.node_state == requesting else requesting

    def handle(self, case_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(case_id)

    def _input(self, case_id: str) -> CaseInput:
        extra: dict[str, Any] = {"history_limit": self.history_limit} if self.history_limit else {}
        if (peer := self.peer_of(case_id)) is not None:
            assert self.node_state is not None
            extra["federation"] = FederationInput(
                node_state=self.node_state,
                peer_state=peer,
                clock_skew_seconds=self.clock_skew_seconds,
            )
        return CaseInput(
            case_id=case_id, policy=self.policy, queue_prefix=self.queue_prefix, **extra
        )

    def _start(
        self,
        case_id: str,
        opening: OpenCase | None = None,
        reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    ) -> WithStartWorkflowOperation[ReadmissionCase, CaseOutcome]:
        """A fresh start operation (one may be used for a single call only), listed from the
        start with the search attributes of the case `opening` opens (`domain.listing`)."""
        listed = None if opening is None else initial(listing_of_opening(opening))
        return WithStartWorkflowOperation(
            ReadmissionCase.run,
            self._input(case_id),
            id=case_id,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=reuse,
            task_queue=cases_queue(self.queue_prefix),
            search_attributes=listed,
        )

    async def open(
        self, command: OpenCase, actor: Actor, *, request_id: str | None = None
    ) -> CommandResult:
        """Start the case workflow if needed and open it, in one call; a retry opens nothing new.
        A closed case's workflow is never started again under its id (issue 18: a restored
        database's numbering may hand out its number): `CaseNumberTaken`."""
        update_id = request_id or str(uuid.uuid4())
        sealed = await self.vault.seal(command.case_id, command)
        request = CommandRequest(command=sealed, actor=actor, correlation_id=update_id)
        try:
            return await self._with_start(
                command.case_id, update_id, request, WorkflowIDReusePolicy.REJECT_DUPLICATE
            )
        except (WorkflowAlreadyStartedError, RPCError) as error:
            if isinstance(error, RPCError) and error.status != RPCStatusCode.ALREADY_EXISTS:
                raise
            raise CommandRefused(
                "CaseNumberTaken", f"case {command.case_id} exists (closed): not opened again"
            ) from error

    async def receive(
        self,
        case_id: str,
        command: Command,
        actor: Actor,
        peer: PeerMessage,
    ) -> CommandResult:
        """Hand a verified message of the other node to the case: the command and the opening
        it carries sealed with this node's case key. Only a submission (with its opening)
        starts the case's workflow; any other message meets the case as it is (`CaseNotFound`
        for none, a refusal for a closed one). The message id is the update id, so a message
        handed twice to one run is applied once."""
        update_id = str(peer.message_id)
        if peer.opening is None:
            sealed = await self.vault.seal(case_id, command)
            request = CommandRequest(
                command=sealed, actor=actor, correlation_id=update_id, peer=peer
            )
            return await self._update(case_id, update_id, request, command.command)
        opening = await self.vault.seal(case_id, peer.opening)
        assert isinstance(opening, OpenCase)
        peer = peer.model_copy(update={"opening": opening})
        sealed = await self.vault.seal(case_id, command)
        request = CommandRequest(command=sealed, actor=actor, correlation_id=update_id, peer=peer)
        return await self._with_start(case_id, update_id, request)

    async def _with_start(
        self,
        case_id: str,
        update_id: str,
        request: CommandRequest,
        reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    ) -> CommandResult:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                return await self._update_with_start(case_id, update_id, request, reuse)
            except WorkflowUpdateFailedError as error:
                raise _refusal(error) from error
            except WorkflowUpdateRPCTimeoutOrCancelledError:
                if time.monotonic() > deadline:
                    raise
            except RPCError as error:
                if not _not_ready(error) or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(NOT_READY_PAUSE)

    async def _update_with_start(
        self, case_id: str, update_id: str, request: CommandRequest, reuse: WorkflowIDReusePolicy
    ) -> CommandResult:
        start = self._start(case_id, _opening(request), reuse)
        try:
            return await self.client.execute_update_with_start_workflow(
                ReadmissionCase.execute,
                self.signer.sign(case_id, update_id, request),
                start_workflow_operation=start,
                id=update_id,
            )
        except BaseException:
            # the SDK keeps the start's own failure in a future nobody awaits: look at it, so
            # asyncio does not log "Future exception was never retrieved" with the case id
            handle = getattr(start, "_workflow_handle", None)
            if isinstance(handle, asyncio.Future) and handle.done() and not handle.cancelled():
                handle.exception()
            raise

    async def execute(
        self, case_id: str, command: Command, actor: Actor, *, request_id: str | None = None
    ) -> CommandResult:
        """Send one command; `request_id` (an idempotency key) de-duplicates retries.

        While no worker takes the update (e.g. one is being replaced), or the server refuses it
        until a failed or timed-out workflow task has been retried, the call is renewed with the
        same update id until `wait_seconds` have passed: the command is applied once.
        """
        update_id = request_id or str(uuid.uuid4())
        sealed = await self.vault.seal(case_id, command)
        request = CommandRequest(command=sealed, actor=actor, correlation_id=update_id)
        return await self._update(case_id, update_id, request, command.command)

    async def _update(
        self, case_id: str, update_id: str, request: CommandRequest, name: str
    ) -> CommandResult:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                return await self.handle(case_id).execute_update(
                    ReadmissionCase.execute,
                    self.signer.sign(case_id, update_id, request),
                    id=update_id,
                )
            except WorkflowUpdateFailedError as error:
                raise _refusal(error) from error
            except WorkflowUpdateRPCTimeoutOrCancelledError:
                if time.monotonic() > deadline:
                    raise
            except RPCError as error:
                if error.status == RPCStatusCode.NOT_FOUND:
                    if await self._ended(case_id):  # closed: its workflow has completed
                        raise CommandRefused(
                            "CaseClosedError",
                            f"{name}: the case is closed",
                            rule=CaseClosedError.rule,
                        ) from error
                    raise CaseNotFound(case_id) from error
                if not _not_ready(error) or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(NOT_READY_PAUSE)

    async def _ended(self, case_id: str) -> bool:
        """Whether the case's workflow has completed: a case's run ends only once it closed
        (by an officer or by itself), so a command then meets a closed case."""
        try:
            described = await self.handle(case_id).describe()
        except RPCError:
            return False
        return described.status == WorkflowExecutionStatus.COMPLETED

    async def view(self, case_id: str) -> CaseView:
        try:
            return await self.handle(case_id).query(ReadmissionCase.view)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise CaseNotFound(case_id) from error
            raise
