"""`ReadmissionCase`: one workflow per case, from opening to closing, on both sides.

Workflow id = case id (`<requesting>-<requested>-<year>-<six digits>`, e.g. `PL-UA-2027-000123`).
Commands arrive as the `execute` update, whose validator runs the decider against the current
state so an invalid command is rejected before anything reaches history. An accepted command is
decided here (its deadlines computed by the decider's calendar arithmetic), then one local
activity, `commit_case_events`, appends its events and the notices they cause in one statement
and plans the new deadlines' reminders; only then does the update return. The workflow goes on
from that activity's recorded result, so a replay under newer holiday data, or a task retried
after a worker died, never changes a deadline once recorded. Durable timers remind, escalate and
expire limits; identity verification runs as an activity on the requested state's queue.

Cases started before `commit_case_events` (`COMMIT_PATCH`) keep their way until they end or
continue as new: deadlines and appends as remote activities, notices sent by the states' queues.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.alarms import Alarm, ReminderPolicy, next_alarm
    from domain.commands import (
        COMMAND_SIDE,
        CloseCase,
        Command,
        ConfirmReceipt,
        ExpireLimit,
        OpenCase,
        RecordEscalation,
        RecordVerification,
        personal_data_in_clear,
    )
    from domain.decider import (
        compute_deadlines,
        decide,
        fold,
        required_deadlines,
        validate,
    )
    from domain.errors import DomainError
    from domain.events import Event
    from domain.notices import Notice, notices_for
    from domain.state import CaseState, initial_state, is_terminal
    from domain.values import Side, Status
    from workflows.contracts import (
        APPEND_EVENTS,
        COMMIT_EVENTS,
        COMPUTE_DEADLINES,
        SEND_NOTICES,
        SYSTEM,
        VERIFY_IDENTITY,
        WORKFLOW_NAME,
        Actor,
        AppendInput,
        AppendResult,
        CaseInput,
        CaseOutcome,
        CaseView,
        CommandRequest,
        CommandResult,
        CommitInput,
        CommitResult,
        DeadlinesInput,
        DeadlinesResult,
        EventEnvelope,
        NoticesInput,
        NoticesResult,
        RecordedEvent,
        StoredEnvelope,
        VerifyIdentityInput,
        VerifyIdentityResult,
        cases_queue,
        state_queue,
    )

FOREVER = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# One local activity per command (`commit_case_events`) instead of remote deadline, append and
# notice activities, and the alarm's timer kept across wake-ups while the next alarm's instant
# stays the same: histories recorded without this marker replay the older way. (One patch for
# both: each patch id costs a marker and a search-attribute update in every case's history.)
COMMIT_PATCH = "commit-case-events"
VERIFICATION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=5
)


def _pairs(envelopes: Iterable[EventEnvelope]) -> Iterator[tuple[UUID, Event]]:
    return ((e.event_id, e.event) for e in envelopes)


def _domain_failure(error: DomainError) -> ApplicationError:
    return ApplicationError(
        error.message,
        {"rule": error.rule, "http_status": error.http_status},
        type=error.type,
        non_retryable=True,
    )


@workflow.defn(name=WORKFLOW_NAME)
class ReadmissionCase:
    @workflow.init
    def __init__(self, start: CaseInput) -> None:
        # The input is read here, not in `run`: with update-with-start the opening update is
        # handled before `run` begins.
        self.case_id = start.case_id
        self.state: CaseState = start.state or initial_state()
        self.reminders: dict[str, tuple[Alarm, ...]] = dict(start.reminders)
        self.outbox: list[Notice] = list(start.outbox)
        self.policy: ReminderPolicy = start.policy
        self.prefix = start.queue_prefix
        self.verification_pending = start.verification_pending
        self.history_limit = start.history_limit
        self.lock = asyncio.Lock()
        self.changed = False
        self.background: set[asyncio.Task[None]] = set()
        self.timer: asyncio.Task[None] | None = None
        self.armed_at: datetime | None = None

    # --- run --------------------------------------------------------------------------------

    @workflow.run
    async def run(self, start: CaseInput) -> CaseOutcome:
        steady = workflow.patched(COMMIT_PATCH)
        while True:
            self._flush_outbox()
            if self.verification_pending and not self.lock.locked():
                self.verification_pending = False
                self._spawn(self._verify_identity())
            if is_terminal(self.state):
                break
            if self._history_is_long():
                self._disarm()
                await self._continue_as_new()
            if steady:
                await self._next_moment()
                continue
            alarm = next_alarm(self.state, self.reminders, workflow.now())
            self.changed = False
            timeout = None if alarm is None else max(alarm.at - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(
                    lambda: self.changed, timeout=timeout, timeout_summary="next case alarm"
                )
            except TimeoutError:
                assert alarm is not None
                await self._fire(alarm)
        self._disarm()
        await self._settle()
        return CaseOutcome(
            case_id=self.case_id, status=self.state.status.value, version=self.state.version
        )

    async def _next_moment(self) -> None:
        """Wait for a change (a command, finished background work) or the next alarm. The
        alarm's timer is kept while its instant stays the same, and replaced only when it
        moves: most commands leave the next alarm where it was."""
        alarm = next_alarm(self.state, self.reminders, workflow.now())
        if alarm is not None and alarm.at <= workflow.now():
            self._disarm()
            await self._fire(alarm)
            return
        at = None if alarm is None else alarm.at
        if at != self.armed_at:
            self._disarm()
            if alarm is not None:
                delay = alarm.at - workflow.now()
                self.timer = asyncio.create_task(workflow.sleep(delay, summary="next case alarm"))
                self.armed_at = at
        self.changed = False
        timer = self.timer
        await workflow.wait_condition(lambda: self.changed or (timer is not None and timer.done()))
        if timer is not None and timer.done():
            self.timer, self.armed_at = None, None
            due = next_alarm(self.state, self.reminders, workflow.now())
            if due is not None and due.at <= workflow.now():
                await self._fire(due)

    def _disarm(self) -> None:
        if self.timer is not None and not self.timer.done():
            self.timer.cancel()
        self.timer, self.armed_at = None, None

    def _history_is_long(self) -> bool:
        info = workflow.info()
        length = info.get_current_history_length()
        return info.is_continue_as_new_suggested() or length > self.history_limit

    async def _settle(self) -> None:
        """Let every handler, notification and verification finish before the run ends."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._flush_outbox()
        await workflow.wait_condition(lambda: not self.background)

    async def _continue_as_new(self) -> None:
        await self._settle()
        workflow.continue_as_new(
            CaseInput(
                case_id=self.case_id,
                state=self.state,
                reminders=self.reminders,
                outbox=tuple(self.outbox),
                verification_pending=self.verification_pending,
                policy=self.policy,
                queue_prefix=self.prefix,
                history_limit=self.history_limit,
            )
        )

    async def _fire(self, alarm: Alarm) -> None:
        command: Command
        if alarm.level is None:
            command = ExpireLimit(at=workflow.now(), limit=alarm.limit)
        else:
            command = RecordEscalation(at=workflow.now(), limit=alarm.limit, level=alarm.level)
        try:
            await self._apply(command, SYSTEM)
        except ApplicationError as error:
            # the case moved on while the timer ran (e.g. a reply raced the expiry)
            workflow.logger.info("alarm for %s not applied: %s", alarm.limit, error.message)
        if (
            self.state.status is Status.TRANSFERRED
            and "readmission_in_error" not in self.state.open_limits
            and alarm.limit == "readmission_in_error"
        ):
            await self._apply(CloseCase(at=workflow.now()), SYSTEM)

    # --- the command path ------------------------------------------------------------------

    @workflow.update
    async def execute(self, request: CommandRequest) -> CommandResult:
        return await self._apply(request.command, request.actor, request.correlation_id)

    @execute.validator
    def check_execute(self, request: CommandRequest) -> None:
        command = request.command
        if COMMAND_SIDE[command.command] is Side.SYSTEM:
            raise ApplicationError(
                f"{command.command} is issued by the case's clock only",
                type="InvalidCommand",
                non_retryable=True,
            )
        if isinstance(command, OpenCase) and command.case_id != workflow.info().workflow_id:
            raise ApplicationError(
                f"case id {command.case_id} differs from the workflow id",
                type="InvalidCommand",
                non_retryable=True,
            )
        if unsealed := personal_data_in_clear(command):
            # Validators do not run on replay: older histories with data in the clear still replay.
            raise ApplicationError(
                f"personal data must arrive sealed with the case key: {', '.join(unsealed)}",
                {"http_status": 422},
                type="PersonalDataNotSealed",
                non_retryable=True,
            )
        try:
            validate(self._stamped(command), self.state)
        except DomainError as error:
            raise _domain_failure(error) from None

    @staticmethod
    def _stamped(command: Command) -> Command:
        return command.model_copy(update={"at": workflow.now(), "deadlines": ()})

    async def _apply(
        self, command: Command, actor: Actor, correlation_id: str | None = None
    ) -> CommandResult:
        async with self.lock:
            command = self._stamped(command)
            try:
                validate(command, self.state)
            except DomainError as error:
                raise _domain_failure(error) from None
            if workflow.patched(COMMIT_PATCH):
                return await self._commit(command, actor, correlation_id)
            requests = required_deadlines(command, self.state)
            reminders: dict[str, tuple[Alarm, ...]] = {}
            if requests:
                terms = command.terms if isinstance(command, OpenCase) else self.state.terms
                assert terms is not None
                computed = await workflow.execute_activity(
                    COMPUTE_DEADLINES,
                    DeadlinesInput(terms=terms, requests=requests, policy=self.policy),
                    result_type=DeadlinesResult,
                    task_queue=cases_queue(self.prefix),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=FOREVER,
                )
                command = command.model_copy(update={"deadlines": computed.deadlines})
                reminders = computed.reminders
            try:
                events = decide(command, self.state)
            except DomainError as error:
                raise _domain_failure(error) from None
            return await self._record(command, events, actor, correlation_id, reminders)

    async def _commit(
        self, command: Command, actor: Actor, correlation_id: str | None
    ) -> CommandResult:
        while True:
            requests = required_deadlines(command, self.state)
            if requests:
                terms = command.terms if isinstance(command, OpenCase) else self.state.terms
                assert terms is not None
                deadlines = compute_deadlines(terms, requests)
                command = command.model_copy(update={"deadlines": deadlines})
            try:
                events = decide(command, self.state)
            except DomainError as error:
                raise _domain_failure(error) from None
            envelopes = self._envelopes(command, events, actor, correlation_id)
            after = fold(events, self.state)
            result = await workflow.execute_local_activity(
                COMMIT_EVENTS,
                CommitInput(
                    case_id=self.case_id,
                    expected_version=self.state.version,
                    events=tuple(StoredEnvelope.of(e) for e in envelopes),
                    notices=tuple(notices_for(self.case_id, _pairs(envelopes), after)),
                    policy=self.policy,
                ),
                result_type=CommitResult,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=FOREVER,
            )
            if not result.recorded:
                return self._recorded(command, envelopes, after, result.reminders, outbox=False)
            # an earlier attempt of this task recorded first (see `CommitResult`)
            metadata = envelopes[0].metadata
            envelopes = tuple(
                EventEnvelope(event_id=i, event=e, metadata=metadata)
                for i, e in zip(result.event_ids, result.recorded, strict=True)
            )
            after = fold(result.recorded, self.state)
            if not result.superseded:
                return self._recorded(command, envelopes, after, result.reminders, outbox=False)
            self.state = after  # another update's events: decide this command on top of them
            self.reminders.update(result.reminders)
            self.changed = True
            command = self._stamped(command)

    def _envelopes(
        self, command: Command, events: list[Event], actor: Actor, correlation_id: str | None
    ) -> tuple[EventEnvelope, ...]:
        info = workflow.info()
        update = workflow.current_update_info()
        metadata: dict[str, str | None] = {
            "actor": actor.user_id,
            "actor_state": actor.state,
            "actor_role": actor.role,
            "command": command.command,
            "correlation_id": correlation_id,
            "causation_id": update.id if update else None,
            "workflow_id": info.workflow_id,
            "run_id": info.run_id,
        }
        return tuple(
            EventEnvelope(event_id=workflow.uuid4(), event=event, metadata=metadata)
            for event in events
        )

    async def _record(
        self,
        command: Command,
        events: list[Event],
        actor: Actor,
        correlation_id: str | None,
        reminders: dict[str, tuple[Alarm, ...]],
    ) -> CommandResult:
        """The way of cases started before `COMMIT_PATCH`: append, then notices on the side."""
        envelopes = self._envelopes(command, events, actor, correlation_id)
        await workflow.execute_activity(
            APPEND_EVENTS,
            AppendInput(
                case_id=self.case_id, expected_version=self.state.version, events=envelopes
            ),
            result_type=AppendResult,
            task_queue=cases_queue(self.prefix),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=FOREVER,
        )
        after = fold(events, self.state)
        return self._recorded(command, envelopes, after, reminders, outbox=True)

    def _recorded(
        self,
        command: Command,
        envelopes: tuple[EventEnvelope, ...],
        state: CaseState,
        reminders: dict[str, tuple[Alarm, ...]],
        *,
        outbox: bool,
    ) -> CommandResult:
        """Take the state after the recorded `envelopes`; `outbox`: their notices are still to
        be sent."""
        first_version = self.state.version + 1
        self.state = state
        self.reminders.update(reminders)
        if outbox:
            self.outbox.extend(notices_for(self.case_id, _pairs(envelopes), state))
        if isinstance(command, ConfirmReceipt):
            self.verification_pending = True
        self.changed = True
        return CommandResult(
            case_id=self.case_id,
            version=state.version,
            status=state.status.value,
            events=tuple(
                RecordedEvent(
                    event_id=e.event_id, version=first_version + i, type=e.event.type, at=e.event.at
                )
                for i, e in enumerate(envelopes)
            ),
        )

    # --- background work -------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.background.discard(task)
        self.changed = True

    def _flush_outbox(self) -> None:
        if not self.outbox:
            return
        by_state: dict[str, list[Notice]] = {}
        for notice in self.outbox:
            by_state.setdefault(notice.state, []).append(notice)
        self.outbox = []
        for state, notices in by_state.items():
            self._spawn(self._send(state, tuple(notices)))

    async def _send(self, state: str, notices: tuple[Notice, ...]) -> None:
        await workflow.execute_activity(
            SEND_NOTICES,
            NoticesInput(notices=notices),
            result_type=NoticesResult,
            task_queue=state_queue(state, self.prefix),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=FOREVER,
        )

    async def _verify_identity(self) -> None:
        state = self.state
        if state.terms is None or state.person is None or state.status is not Status.RECEIVED:
            return
        try:
            result = await workflow.execute_activity(
                VERIFY_IDENTITY,
                VerifyIdentityInput(
                    case_id=self.case_id,
                    state=state.terms.requested,
                    person=state.person,
                    evidence=state.evidence,
                    at=workflow.now(),
                ),
                result_type=VerifyIdentityResult,
                task_queue=state_queue(state.terms.requested, self.prefix),
                start_to_close_timeout=timedelta(minutes=5),
                heartbeat_timeout=timedelta(seconds=30),
                retry_policy=VERIFICATION_RETRY,
            )
        except ActivityError as error:
            workflow.logger.warning("identity verification failed: %s", error)
            return
        if self.state.status is Status.RECEIVED:
            command = RecordVerification(at=workflow.now(), outcome=result.outcome)
            try:
                await self._apply(command, SYSTEM)
            except ApplicationError as error:
                workflow.logger.info("verification not recorded: %s", error.message)

    # --- queries ----------------------------------------------------------------------------

    @workflow.query
    def view(self) -> CaseView:
        return CaseView(
            state=self.state,
            reminders=self.reminders,
            next_alarm=next_alarm(self.state, self.reminders, workflow.now()),
        )
